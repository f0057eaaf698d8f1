"""``report.html``: the top designs as a self-contained gallery (thumbnails embedded) with their evidence."""

from __future__ import annotations

import base64
import html
import io
import json
import logging

import pandas as pd
from PIL import Image

from include.lake import Lake, LakeError

log = logging.getLogger(__name__)


def thumbnail_uri(lake: Lake, key: str | None, size: int = 180) -> str:
    """A ``data:`` URI of a small JPEG thumbnail of the lake image ``key`` (empty when unreadable)."""
    if not key:
        return ""
    try:
        with Image.open(io.BytesIO(lake.read_bytes(key))) as image:
            image = image.convert("RGB")
            image.thumbnail((size, size))
            buf = io.BytesIO()
            image.save(buf, "JPEG", quality=80)
    except (LakeError, OSError) as exc:
        log.warning("no thumbnail for %s: %s", key, exc)
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-bottom:1.5rem}
.design{display:flex;gap:1rem;background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:1rem;margin:.8rem 0}
.rank{font-size:2rem;font-weight:700;width:3rem;color:#999}
.product img{width:150px;border-radius:4px} .info{min-width:16rem}
.evidence{display:flex;gap:.4rem;flex-wrap:wrap;align-items:flex-start}
.evidence figure{margin:0;font-size:.75rem;color:#666;text-align:center}
.evidence img{width:96px;height:96px;object-fit:cover;border-radius:4px}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;background:#eef;margin-right:.3rem}
"""


def render_report(lake: Lake, table: pd.DataFrame, dt: str, run_id: str, top: int = 20) -> str:
    """The HTML page for one published run."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Winning designs {html.escape(dt)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Winning designs — {html.escape(dt)}</h1>",
        f"<div class='meta'>run {html.escape(run_id)} · {len(table)} designs matched by social posts</div>",
    ]
    if table.empty:
        parts.append("<p>No social post matched any catalog design above the threshold.</p>")
    for row in table.head(top).itertuples():
        evidence = json.loads(row.evidence or "[]")
        figures = "".join(
            f"<figure><a href='{html.escape(str(e.get('post_url') or ''))}'>"
            f"<img src='{thumbnail_uri(lake, e.get('image_key'), 120)}' alt='evidence post'></a>"
            f"<figcaption>{html.escape(str(e.get('source')))}<br>sim {e.get('similarity'):.2f}</figcaption>"
            "</figure>"
            for e in evidence
        )
        price = f"{row.price:.2f} {row.currency or ''}" if pd.notna(row.price) else ""
        parts.append(
            "<div class='design'>"
            f"<div class='rank'>{row.rank}</div>"
            f"<div class='product'><img src='{thumbnail_uri(lake, row.image_key)}' alt='product'></div>"
            f"<div class='info'><b><a href='{html.escape(str(row.product_url or ''))}'>"
            f"{html.escape(str(row.title))}</a></b><br>{html.escape(str(row.brand or ''))} · {price}<br>"
            f"<span class='tag'>{html.escape(str(row.portal))}</span><br>"
            f"score {row.score:.2f} · current {row.current_score:.2f} · upcoming {row.upcoming_score:.2f}<br>"
            f"{row.support_posts} matching posts</div>"
            f"<div class='evidence'>{figures}</div></div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
