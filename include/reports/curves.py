"""The report's trend curves: per top theme, category and colour, its history and forecast with the band (inline SVG).

One small chart per series of the street-style (``current``) horizon: the weekly share as a solid line, the
forecast dashed inside its shaded 80 % band, and the same key's fashion-week series (the leading signal) as a thin
dotted line. Series are ordered emerging, rising, flat, declining (the strongest change first); series without
enough history are listed by name with their reason, never drawn as a curve.
"""

from __future__ import annotations

import html

import pandas as pd

CLASS_COLOUR = {"emerging": "#8250df", "rising": "#1a7f37", "flat": "#6e7781", "declining": "#cf222e",
                "insufficient-history": "#999999"}  # fmt: skip
KIND_TITLE = {"theme": "Themes", "category": "Categories", "colour": "Colours"}
ORDER = ["emerging", "rising", "flat", "declining"]
STYLE = """
.curves{display:flex;flex-wrap:wrap;gap:.8rem} .curve{background:#fff;border:1px solid #e3e3e3;border-radius:8px;
padding:.5rem .7rem;font-size:.8rem} .curve b{font-size:.9rem} .cls{color:#fff;padding:0 .4rem;border-radius:4px}
.short{color:#666;font-size:.85rem}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None or value != value else str(value))


def curve_svg(rows: pd.DataFrame, signal: pd.DataFrame | None = None, width: int = 330, height: int = 140,
              history_weeks: int = 104) -> str:  # fmt: skip
    """One series' chart: ``rows`` are its forecasts.parquet rows (history and forecast weeks), oldest first."""
    past = rows[rows["actual"].notna()].tail(history_weeks)
    ahead = rows[rows["forecast"].notna()]
    weeks = sorted(set(past["week"]) | set(ahead["week"]))
    if not weeks:
        return ""
    index = {w: i for i, w in enumerate(weeks)}
    sig = signal[signal["week"].isin(index) & signal["actual"].notna()] if signal is not None else None
    values = [past["actual"], ahead["upper"], ahead["forecast"]] + ([sig["actual"]] if sig is not None else [])
    top = max([float(v.max()) for v in values if len(v)] + [1e-9])
    pad, foot = 6, 16

    def xy(week: str, value: float) -> str:
        x = pad + index[week] * (width - 2 * pad) / max(1, len(weeks) - 1)
        return f"{x:.1f},{height - foot - float(value) / top * (height - foot - pad):.1f}"

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
             f"aria-label='weekly share, history and forecast' style='background:#fff'>",
             f"<line x1='{pad}' y1='{height - foot}' x2='{width - pad}' y2='{height - foot}' stroke='#bbb'/>",
             f"<text x='{pad}' y='{height - 3}' font-size='10' fill='#666'>{_e(weeks[0])}</text>",
             f"<text x='{width - pad}' y='{height - 3}' font-size='10' fill='#666' text-anchor='end'>{_e(weeks[-1])}"
             "</text>",
             f"<text x='{pad}' y='{pad + 8}' font-size='10' fill='#666'>{top:.1%}</text>"]  # fmt: skip
    if len(ahead):
        band = [xy(r.week, r.upper) for r in ahead.itertuples()] + [
            xy(r.week, r.lower) for r in ahead[::-1].itertuples()
        ]
        parts.append(f"<polygon class='band' points='{' '.join(band)}' fill='#0969da' fill-opacity='0.15'/>")
        start = [xy(past["week"].iloc[-1], past["actual"].iloc[-1])] if len(past) else []
        line = " ".join(start + [xy(r.week, r.forecast) for r in ahead.itertuples()])
        parts.append(f"<polyline class='forecast' fill='none' stroke='#0969da' stroke-width='2' "
                     f"stroke-dasharray='5,3' points='{line}'/>")  # fmt: skip
    if sig is not None and len(sig):
        line = " ".join(xy(r.week, r.actual) for r in sig.itertuples())
        parts.append(f"<polyline class='signal' fill='none' stroke='#bf8700' stroke-width='1' stroke-dasharray='1,2' "
                     f"points='{line}'/>")  # fmt: skip
    if len(past):
        line = " ".join(xy(r.week, r.actual) for r in past.itertuples())
        parts.append(f"<polyline class='history' fill='none' stroke='#222' stroke-width='1.5' points='{line}'/>")
    parts.append("</svg>")
    return "".join(parts)


def trend_section(forecasts: pd.DataFrame | None, top: int = 6) -> str:
    """The "Trend curves" section of the report from ``forecasts.parquet`` rows (empty string when none)."""
    if forecasts is None or forecasts.empty:
        return ""
    out = [f"<style>{STYLE}</style><h2 id='trend-curves'>Trend curves</h2>",
           "<p class='meta'>Weekly share of the street-style points (solid), the forecast (dashed) in its 80 % band, "
           "and the fashion-week share (dotted), the leading signal. Rising first.</p>"]  # fmt: skip
    current = forecasts[forecasts["horizon"] == "current"]
    upcoming = forecasts[forecasts["horizon"] == "upcoming"]
    for kind, title in KIND_TITLE.items():
        rows = current[current["kind"] == kind]
        if rows.empty:
            continue
        info = rows.groupby("series_id", sort=False).first()
        drawn = info[info["class"].isin(ORDER)]
        drawn = drawn.assign(o=drawn["class"].map(ORDER.index), c=-drawn["change"]).sort_values(["o", "c"]).head(top)
        out.append(f"<h3>{title}</h3><div class='curves' data-kind='{kind}'>")
        for sid, r in drawn.iterrows():
            signal = upcoming[upcoming["series_id"] == sid]
            bt = "" if r["backtest_mase"] != r["backtest_mase"] else f" · backtest MASE {r['backtest_mase']:.2f}"
            out.append(
                f"<div class='curve' data-series='{_e(sid)}' data-class='{_e(r['class'])}'><b>{_e(r['label'])}</b> "
                f"<span class='cls' style='background:{CLASS_COLOUR[r['class']]}'>{_e(r['class'])}</span> "
                f"{r['change']:+.0%} year over year<br>{_e(r['model'])}{bt}<br>"
                f"{curve_svg(rows[rows['series_id'] == sid], signal if len(signal) else None)}</div>"
            )
        out.append("</div>")
        short = info[info["class"] == "insufficient-history"]
        if len(short):
            names = ", ".join(f"{_e(r['label'])} ({_e(r['reason'])})" for _, r in short.head(12).iterrows())
            more = f" and {len(short) - 12} more" if len(short) > 12 else ""
            out.append(f"<p class='short' data-kind='{kind}'>Not forecast, insufficient history: {names}{more}.</p>")
    return "\n".join(out)
