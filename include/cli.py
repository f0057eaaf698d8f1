"""``fti``: the command line of Fashion Trend Intelligence.

fti demo              run the whole nightly pipeline through Airflow against the demo web
fti demo-web          serve the demo web (portals and social APIs) on 127.0.0.1
fti crawl SOURCE      crawl one source for a date (own process)
fti validate SOURCE   validate a source's batch
fti embed             embed the date's catalog into Milvus
fti rank              match, rank and publish the date's report
"""

from __future__ import annotations

import argparse
import json
import logging
from datetime import date


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``fti`` console script."""
    parser = argparse.ArgumentParser(prog="fti", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    today = date.today().isoformat()

    web = sub.add_parser("demo-web", help="serve the demo web on 127.0.0.1")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8765)
    web.add_argument("--seed", type=int, default=7)
    web.add_argument("--products", type=int, default=1000)
    web.add_argument("--posts", type=int, default=300)
    web.add_argument("--day", type=int, default=0)
    web.add_argument("--images", default=None, help="folder of real photos in the styles.csv layout")
    web.add_argument("--faults", action="store_true", help="also serve the bad-input cases")

    demo = sub.add_parser("demo", help="run the nightly pipeline through Airflow on embedded defaults")
    demo.add_argument("--date", default="2026-11-01")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--products", type=int, default=1000)
    demo.add_argument("--posts", type=int, default=300)
    demo.add_argument("--images", default=None)
    demo.add_argument("--port", type=int, default=8765)

    for name in ("crawl", "validate"):
        p = sub.add_parser(name, help=f"{name} one source")
        p.add_argument("source")
        p.add_argument("--date", default=today)
    for name in ("embed", "rank"):
        sub.add_parser(name, help=f"{name} the date's data").add_argument("--date", default=today)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo-web":
        from include.demoweb.server import run_demo_web

        run_demo_web(args.host, args.port, args.seed, args.products, args.posts, args.day, args.images, args.faults)
    elif args.command == "demo":
        from include.demo import run_demo

        run_demo(args.date, seed=args.seed, n_products=args.products, n_posts=args.posts,
                 images_dir=args.images, port=args.port)  # fmt: skip
    elif args.command == "crawl":
        from crawlers.crawl import crawl_source

        _print(crawl_source(args.source, args.date))
    elif args.command == "validate":
        from include.stages import validate_source

        _print(validate_source(args.source, args.date))
    elif args.command == "embed":
        from embedding.catalog import embed_catalog

        _print(embed_catalog(args.date))
    elif args.command == "rank":
        from include.stages import rank_and_publish

        _print(rank_and_publish(args.date))


if __name__ == "__main__":
    main()
