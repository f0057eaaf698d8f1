"""``make bench-parse-pages``: what ``fti parse-page`` extracts from the real saved pages and API samples.

Reads ``../shared/data/real-pages`` (``--pages``; see its README): every ``products/*.html`` goes through the
``jsonld_product`` extraction (the code ``fti parse-page FILE --spider jsonld_product`` runs) and is compared with
what a reader of the page sees, per ``sources.csv``:

* ``title_matches`` — the extracted title contains the product name, or the name contains it;
* ``image_is_the_products`` — the image is a picture of the product itself: the same URL (decoded, scheme
  ignored), or the same host and the same article (H&M-group image servers: ``source[02_0695515_001`` without the
  picture number, so the front view where the sheet names the side view counts; the file name otherwise);
* ``image_exact`` — the very URL the sheet names; ``price`` / ``currency`` — present; ``price_as_test_case`` — equal
  to the price the original repository's test case expected (those include club and pre-sale prices);
* ``all_four`` — title, price, currency and the product's own image, the issue's target (>= 95 %).

The Instagram Graph API sample goes through the ``instagram_hashtag`` parsing: posts, image posts, album images.
Prints one JSON object (``--out`` also writes it).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

REAL_PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-pages"


def _norm(url: str | None) -> str:
    return re.sub(r"^(https?:)?//", "", unquote(url or "")).lower()


def picture_id(url: str | None) -> tuple[str, str]:
    """Host and picture key of an image URL (the article ``02_0695515_001`` on H&M-group image servers, else the
    file name)."""
    text = _norm(url)
    host = text.split("/", 1)[0]
    match = re.search(r"source\[(?:/[0-9a-f]{2}/[0-9a-f]{2}/)?([0-9a-f_]+?)(?:_\d{3})?\]", text)
    if match:
        return host, match[1]
    return host, urlsplit("//" + text).path.rsplit("/", 1)[-1]


def score_products(root: Path = REAL_PAGES) -> dict[str, Any]:
    """Extraction of every saved product page against ``sources.csv`` (see the module docstring)."""
    from crawlers.parse_page import NothingFound, parse_saved

    with (root / "sources.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["file"].startswith("products/")]
    counts = dict.fromkeys(("title", "title_matches", "price", "currency", "image", "image_is_the_products",
                            "image_exact", "price_as_test_case"), 0)  # fmt: skip
    misses, all_four, seconds = [], 0, 0.0
    for row in rows:
        started = time.perf_counter()
        try:
            got = parse_saved(root / row["file"], "jsonld_product")
        except NothingFound as exc:
            misses.append({"file": row["file"], "nothing": str(exc)})
            continue
        finally:
            seconds += time.perf_counter() - started
        name, title = row["expected_product_name"].lower(), (got["title"] or "").lower()
        checks = {
            "title": bool(title), "title_matches": bool(title) and (name in title or title in name),
            "price": got["price"] is not None, "currency": bool(got["currency"]), "image": bool(got["image"]),
            "image_is_the_products": picture_id(got["image"]) == picture_id(row["main_image_url"])
            or _norm(got["image"]) == _norm(row["main_image_url"]),
            "image_exact": _norm(got["image"]) == _norm(row["main_image_url"]),
            "price_as_test_case": bool(row["testcase_expected_price_eur"]) and got["price"] is not None
            and abs(got["price"] - float(row["testcase_expected_price_eur"])) < 0.005,
        }  # fmt: skip
        for key, ok in checks.items():
            counts[key] += ok
        four = checks["title"] and checks["price"] and checks["currency"] and checks["image_is_the_products"]
        all_four += four
        if not four:
            misses.append({"file": row["file"], "got": got, "expected_image": row["main_image_url"]})
    return {"pages": len(rows), "all_four": all_four, "fields": counts, "misses": misses,
            "ms_per_page": round(1000 * seconds / max(len(rows), 1), 1)}  # fmt: skip


def score_instagram(root: Path = REAL_PAGES) -> dict[str, Any]:
    """The Graph API media sample through the Instagram parsing: posts, image posts, album pictures."""
    from crawlers.spiders.graph_api import media_page

    posts = json.loads((root / "api" / "instagram_graph_v19_user_media_data.json").read_text(encoding="utf-8"))
    items, skipped, _ = media_page({"data": posts})
    albums = [p for p in posts if p.get("media_type") == "CAROUSEL_ALBUM"]
    album_items = [i for i in items if i["product_id"] in {p["id"] for p in albums}]
    return {"posts": len(posts), "image_posts": len(items), "skipped_no_media": len(skipped), "albums": len(albums),
            "album_images": sum(len(i["image_urls"]) for i in album_items),
            "images": sum(len(i["image_urls"]) for i in items)}  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both scores and print them as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=Path, default=REAL_PAGES, help="the real-pages folder")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    result = {"products": score_products(args.pages), "instagram_sample": score_instagram(args.pages)}
    text = json.dumps(result, indent=2, sort_keys=True, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
