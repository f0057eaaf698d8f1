"""``fti``: the command line of Fashion Trend Intelligence.

fti demo              run the whole nightly pipeline through Airflow against the demo web
fti demo-web          serve the demo web (portals and social APIs) on 127.0.0.1
fti crawl SOURCE      crawl one source for a date (own process)
fti parse-page FILE --spider SPIDER [--url URL]
                      what a spider extracts from one saved page or API answer (offline), as JSON
fti validate SOURCE   validate a source's batch
fti embed             embed the date's catalog into Milvus
fti rank              match, rank and publish the date's report
fti index status      the catalog collection in service, its index settings, the versions kept
fti index rollback    point the catalog alias back at the previous model version's collection
fti index reindex     build the champion's collection, check it, move the alias (what reindex_catalog runs)
fti train --config F  train the embedding model, evaluate it, promote it if it beats the champion
fti status            the lake at a glance: last batch per source, champion, alias target, latest report
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date


def _print(obj: object) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def _check_partition(args: argparse.Namespace) -> None:
    """Refuse a bad ``--date`` or source name before anything is touched: one line on stderr, exit status 2."""
    from include.core.partition import PartitionError, check_dt, check_source

    try:
        if getattr(args, "date", None) is not None:
            args.date = check_dt(args.date)
        if args.command in ("crawl", "validate"):
            check_source(args.source)
    except PartitionError as exc:
        print(f"fti {args.command}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


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
    parse = sub.add_parser("parse-page", help="parse one saved page or API answer offline, print its fields")
    parse.add_argument("file")
    parse.add_argument("--spider", required=True, help="spider type: jsonld_product, feed_article, ...")
    parse.add_argument("--url", default=None, help="the URL the file was served at (resolves relative URLs)")
    for name in ("embed", "rank"):
        sub.add_parser(name, help=f"{name} the date's data").add_argument("--date", default=today)
    index = sub.add_parser("index", help="the Milvus catalog collections: status, rollback, reindex")
    index.add_argument("action", choices=["status", "rollback", "reindex"])
    index.add_argument("--version", default=None, help="reindex: a model version instead of the champion")
    train = sub.add_parser("train", help="train the embedding model (training/configs/*.yaml)")
    train.add_argument("--config", default=None, help="training YAML (default: FTI_TRAIN_CONFIG or built-in)")
    train.add_argument("--no-promote", action="store_true", help="register the model but never promote it")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. model.frozen_stages=6 (repeatable)")  # fmt: skip
    status = sub.add_parser("status", help="last batch per source, champion model, alias target, latest report")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--no-milvus", action="store_true", help="do not ask Milvus for the live alias target")

    args = parser.parse_args(argv)
    _check_partition(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo-web":
        from include.demo.server import run_demo_web

        run_demo_web(args.host, args.port, args.seed, args.products, args.posts, args.day, args.images, args.faults)
    elif args.command == "demo":
        from include.ops.demo import run_demo

        run_demo(args.date, seed=args.seed, n_products=args.products, n_posts=args.posts,
                 images_dir=args.images, port=args.port)  # fmt: skip
    elif args.command == "crawl":
        from crawlers.crawl import CrawlError, crawl_source

        try:
            _print(crawl_source(args.source, args.date))
        except CrawlError as exc:  # a failed crawl or write: one line, exit status 1
            print(f"fti crawl: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    elif args.command == "parse-page":
        from crawlers.parse_page import NothingFound, parse_saved

        try:
            print(json.dumps(parse_saved(args.file, args.spider, args.url), ensure_ascii=False, sort_keys=True))
        except NothingFound as exc:
            print(f"nothing found in {args.file}: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
    elif args.command == "validate":
        from include.ops.stages import validate_source

        _print(validate_source(args.source, args.date))
    elif args.command == "embed":
        from embedding.catalog import embed_catalog

        _print(embed_catalog(args.date))
    elif args.command == "rank":
        from include.ops.stages import rank_and_publish

        _print(rank_and_publish(args.date))
    elif args.command == "index":
        from embedding import reindex

        if args.action == "reindex":
            _print(reindex.reindex_catalog(version=args.version))
        else:
            _print(getattr(reindex, args.action)())
    elif args.command == "train":
        from include.core.settings import get_settings
        from training.config import load_config, parse_overrides
        from training.train import run_training

        config = load_config(args.config or get_settings().train_config, parse_overrides(args.set))
        _print(run_training(config, promote=False if args.no_promote else None))
    elif args.command == "status":
        from include.ops.status import main as show_status

        show_status(as_json=args.json, live=not args.no_milvus)


if __name__ == "__main__":
    main()
