"""``report.html``: one self-contained page per run (thumbnails embedded as data URIs, the plot as inline SVG).

Sections: the run's notes (missing sources, unreadable history), a momentum plot of the top designs over the
last runs, the trend curves (history and forecast per top theme, category and colour:
:mod:`include.reports.curves`), the themes with their exemplar posts, and the top designs as a gallery with
their evidence posts.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging

import pandas as pd
from PIL import Image

from include.core.lake import Lake, LakeError
from include.reports.curves import trend_section

log = logging.getLogger(__name__)
MOMENTUM_COLOUR = {"rising": "#1a7f37", "falling": "#cf222e", "steady": "#6e7781", "new": "#0969da"}
LINE_COLOURS = ["#0969da", "#1a7f37", "#cf222e", "#8250df", "#bf8700", "#1b7c83", "#e16f24", "#6e7781"]


def thumbnail_uri(lake: Lake, key: str | None, size: int = 180) -> str:
    """A ``data:`` URI of a small JPEG thumbnail of the lake image ``key`` (empty when unreadable)."""
    if not key:
        return ""
    try:
        with Image.open(io.BytesIO(lake.read_bytes(key))) as image:
            image = image.convert("RGB")
            image.thumbnail((size, size))
            buf = io.BytesIO()
            image.save(buf, "JPEG", quality=75)
    except (LakeError, OSError) as exc:
        log.warning("no thumbnail for %s: %s", key, exc)
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;background:#fafafa;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-bottom:1rem} .note{background:#fff8c5;padding:.4rem .8rem}
.design,.theme{display:flex;gap:1rem;background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:1rem;
margin:.8rem 0} .rank{font-size:2rem;font-weight:700;width:3rem;color:#999}
.product img{width:150px;border-radius:4px} .info{min-width:17rem}
.evidence{display:flex;gap:.4rem;flex-wrap:wrap;align-items:flex-start}
.evidence figure{margin:0;font-size:.75rem;color:#666;text-align:center}
.evidence img{width:96px;height:96px;object-fit:cover;border-radius:4px}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;background:#eef;margin-right:.3rem}
.mom{color:#fff;padding:0 .4rem;border-radius:4px}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None or value != value else str(value))


def momentum_svg(trend: pd.DataFrame, labels: dict[str, str], width: int = 720, height: int = 260) -> str:
    """Inline SVG: one line per design of its score over the runs in ``trend`` (columns dt, design_id, score)."""
    if trend.empty or trend["dt"].nunique() < 1:
        return ""
    dates = sorted(trend["dt"].unique())
    top = max(float(trend["score"].max()), 1e-9)
    pad, right = 40, 190
    x = {d: pad + (i * (width - pad - right) / max(1, len(dates) - 1)) for i, d in enumerate(dates)}

    def y(v: float) -> float:
        return height - pad - v / top * (height - 2 * pad)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        "aria-label='score of the top designs over the last runs' style='background:#fff'>",
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - right}' y2='{height - pad}' stroke='#999'/>",
        f"<line x1='{pad}' y1='{pad}' x2='{pad}' y2='{height - pad}' stroke='#999'/>",
        f"<text x='{pad - 4}' y='{pad + 4}' font-size='11' text-anchor='end'>{top:.0f}</text>",
        f"<text x='{pad - 4}' y='{height - pad}' font-size='11' text-anchor='end'>0</text>",
        f"<text x='{pad}' y='{pad - 10}' font-size='11'>score (points)</text>",
    ]
    for d in dates:
        parts.append(f"<text x='{x[d]:.1f}' y='{height - pad + 16}' font-size='11' text-anchor='middle'>{_e(d)}"
                     "</text>")  # fmt: skip
    for i, (design, g) in enumerate(trend.groupby("design_id", sort=False)):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        g = g.sort_values("dt")
        points = " ".join(f"{x[r.dt]:.1f},{y(float(r.score)):.1f}" for r in g.itertuples())
        parts.append(f"<polyline fill='none' stroke='{colour}' stroke-width='2' points='{points}'/>")
        for r in g.itertuples():
            parts.append(f"<circle cx='{x[r.dt]:.1f}' cy='{y(float(r.score)):.1f}' r='3' fill='{colour}'/>")
        parts.append(f"<text x='{width - right + 8}' y='{pad + 14 * i}' font-size='11' fill='{colour}'>"
                     f"{_e(labels.get(design, design[:8]))[:30]}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _figures(lake: Lake, items: list[dict]) -> str:
    return "".join(
        f"<figure><a href='{_e(e.get('post_url'))}'><img src='{thumbnail_uri(lake, e.get('image_key'), 96)}' "
        f"alt='evidence post'></a><figcaption>{_e(e.get('source'))}<br>sim {float(e.get('similarity', 0)):.2f}"
        "</figcaption></figure>"
        for e in items
    )


def render_report(
    lake: Lake, table: pd.DataFrame, dt: str, run_id: str, themes: pd.DataFrame | None = None,
    trend: pd.DataFrame | None = None, notes: list[str] | tuple[str, ...] = (), top: int = 20,
    forecasts: pd.DataFrame | None = None,
) -> str:  # fmt: skip
    """The HTML page of one published run."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Winning designs {_e(dt)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Winning designs — {_e(dt)}</h1>",
        f"<div class='meta'>run {_e(run_id)} · {len(table)} designs matched by social posts"
        + (f" · model {_e(table['model_version'].iloc[0])}" if "model_version" in table and len(table) else "")
        + "</div>",
    ]
    parts += [f"<p class='note'>{_e(n)}</p>" for n in notes]
    if table.empty:
        parts.append("<p>No social post matched any catalog design above the threshold.</p>")
    if trend is not None and not trend.empty:
        labels = dict(zip(table["design_id"], table["title"], strict=True)) if len(table) else {}
        parts += ["<h2>Momentum of the top designs</h2>", momentum_svg(trend, labels)]
    if forecasts is not None and not forecasts.empty:
        parts.append(trend_section(forecasts))
    if themes is not None and not themes.empty:
        parts.append("<h2>Themes</h2>")
        for t in themes.itertuples():
            growth = "new" if t.growth != t.growth or t.growth is None else f"{t.growth:+.0%}"
            parts.append(
                f"<div class='theme'><div class='info'><b>{_e(t.theme)} · {_e(t.name)}</b><br>{t.posts} posts · "
                f"{t.designs} designs<br>score {t.score:.1f} · growth {growth}</div>"
                f"<div class='evidence'>{_figures(lake, json.loads(t.exemplars or '[]'))}</div></div>"
            )
    if not table.empty:
        parts.append("<h2>Top designs</h2>")
    for row in table.head(top).itertuples():
        price = f"{row.price:.2f} {row.currency or ''}" if pd.notna(row.price) else ""
        if getattr(row, "editorial", False):  # a magazine's or blog's look: no price posing as a product
            price = "<span class='tag'>editorial look · not for sale</span>"
        offers = json.loads(getattr(row, "offers", "[]") or "[]")
        offer_tags = "".join(
            f"<a class='tag' href='{_e(o.get('url'))}'>{_e(o.get('portal'))} {o['price'] if o.get('price') else ''}</a>"
            for o in offers
        )
        momentum = str(getattr(row, "momentum", "new"))
        parts.append(
            "<div class='design'>"
            f"<div class='rank'>{row.rank}</div>"
            f"<div class='product'><img src='{thumbnail_uri(lake, row.image_key, 150)}' alt='product'></div>"
            f"<div class='info'><b><a href='{_e(row.product_url)}'>{_e(row.title)}</a></b><br>"
            f"{_e(row.brand)} · {price}<br>{offer_tags}<br>"
            f"score {row.score:.1f} · current {row.current_score:.1f} · upcoming {row.upcoming_score:.1f}<br>"
            f"<span class='mom' style='background:{MOMENTUM_COLOUR.get(momentum, '#999')}'>{_e(momentum)}</span> "
            f"Δ {getattr(row, 'delta', 0.0):+.1f} · theme {_e(getattr(row, 'theme', ''))}<br>"
            f"colours: {_e(getattr(row, 'colours', ''))}<br>{row.support_posts} matching posts</div>"
            f"<div class='evidence'>{_figures(lake, json.loads(row.evidence or '[]'))}</div></div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)
