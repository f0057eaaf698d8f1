"""``make bench-forecast``: backtest of the trend forecasters on real weekly fashion series (the HERMES protocol).

Reads a folder in the F1 layout (``FTI_TREND_SERIES``, default ``../shared/data/fashion-trend-series``):
``main.csv`` (first column the week, one column per series) and optionally ``signal.csv`` (the same names: each
series' weak signal, the influencers' series that leads it). For each origin, every series' last
``--test-weeks`` weeks (52) are forecast from all the weeks before and scored by

* the seasonal MASE (mean over series; denominator: the mean absolute year-over-year difference of the training
  weeks), the paper's definition (:mod:`include.trends.metrics`);
* the accuracy of the year-over-year class (decreasing / flat / increasing, threshold 0.5);
* the share of test weeks inside the model's 80 % prediction interval (``cover80``);
* seconds (fit and forecast of all series).

Rows: seasonal naive (the baseline, and a check of the metric: recomputed by hand it must give the same figure),
each statsforecast model, the default model (``fti``, :class:`include.trends.models.TrendModel`) and the default
without the signal. ``--origins K`` moves the origin back ``--origin-step`` weeks K-1 times and reports the mean
and the spread (standard deviation) over the origins. The last line is the summary
``forecast: default MASE 0.xxx, seasonal naive MASE 0.xxx, accuracy 0.xx``.

Bad input: a missing, repeated or future week, or a single week, stops the run with the reason; a series with
NaN, negative values or no year-over-year variation in its training weeks is skipped and counted; a series without
a signal column is forecast without it (``fti`` then counts it in ``without signal``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from include.trends.metrics import class_accuracy, seasonal_mase
from include.trends.models import LIBRARY_MODELS, TrendModel, library_forecast

DEFAULT = "fti"
MODELS = (*LIBRARY_MODELS, "fti", "fti-nosignal")
LABELS = {"fti": "fti (default)", "fti-nosignal": "fti without signal"}


def load_folder(folder: str | Path, today: date | None = None) -> tuple[list[str], pd.DataFrame, pd.DataFrame | None]:
    """``(weeks, main, signal)``: frames indexed by week (ISO dates), one column per series.

    Raises:
        ValueError: no ``main.csv``, unparsable, repeated, missing or future weeks, or fewer than two weeks.
    """
    folder = Path(folder)
    if not (folder / "main.csv").is_file():
        raise ValueError(f"{folder}: no main.csv (expected the F1 layout: main.csv and signal.csv)")
    main = pd.read_csv(folder / "main.csv", index_col=0)
    try:
        index = pd.to_datetime(main.index, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{folder}/main.csv: the first column must hold ISO dates ({exc})") from exc
    if len(index) < 2:
        raise ValueError(f"{folder}/main.csv holds {len(index)} week(s): nothing to backtest")
    if index.has_duplicates:
        raise ValueError(f"{folder}/main.csv repeats week {index[index.duplicated()][0].date()}")
    steps = np.diff(index.values).astype("timedelta64[D]").astype(int)
    if (steps != 7).any():
        at = int(np.flatnonzero(steps != 7)[0])
        raise ValueError(f"{folder}/main.csv: weeks must follow each other; {index[at].date()} is followed by "
                         f"{index[at + 1].date()}")  # fmt: skip
    if index[-1].date() > (today or date.today()):
        raise ValueError(f"{folder}/main.csv holds the future week {index[-1].date()}")
    weeks = [d.strftime("%Y-%m-%d") for d in index]
    main.index = weeks
    main = main.apply(pd.to_numeric, errors="coerce")
    signal = None
    if (folder / "signal.csv").is_file():
        signal = pd.read_csv(folder / "signal.csv", index_col=0)
        signal.index = [pd.Timestamp(d).strftime("%Y-%m-%d") for d in signal.index]
        signal = signal.apply(pd.to_numeric, errors="coerce").reindex(index=weeks, columns=main.columns)
    return weeks, main, signal


def usable(y: np.ndarray) -> np.ndarray:
    """A reason per series ('' when usable): NaN, negative values or no year-over-year change to scale by."""
    reasons = np.full(len(y), "", dtype=object)
    reasons[~np.isfinite(y).all(axis=1)] = "NaN or missing values"
    finite = np.nan_to_num(y)
    reasons[(reasons == "") & (finite < 0).any(axis=1)] = "negative values"
    flat = np.abs(finite[:, 52:] - finite[:, :-52]).sum(axis=1) == 0 if y.shape[1] > 52 else np.ones(len(y), bool)
    reasons[(reasons == "") & flat] = "no year-over-year change (constant)"
    return reasons


def forecast(model: str, train: np.ndarray, signal: np.ndarray | None, h: int):
    """One model's forecast of the block."""
    if model in LIBRARY_MODELS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return library_forecast(model, train, h)
    return TrendModel(use_signal=model == "fti").forecast(train, signal, h)


def backtest(y: np.ndarray, s: np.ndarray | None, h: int, origins: int, step: int, models: list[str]) -> dict:
    """Scores per model and origin (see the module docstring)."""
    out: dict = {m: [] for m in models}
    for k in range(origins):
        end = y.shape[1] - h - k * step
        train, test = y[:, :end], y[:, end : end + h]
        sig = None if s is None else s[:, :end]
        for model in models:
            t = time.perf_counter()
            fc = forecast(model, train, sig, h)
            seconds = time.perf_counter() - t
            out[model].append({
                "end_week": end, "mase": float(np.nanmean(seasonal_mase(test, fc.mean, train))),
                "accuracy": class_accuracy(test, fc.mean, train[:, -52:]),
                "cover80": float(np.mean((test >= fc.lower) & (test <= fc.upper))), "seconds": seconds,
                "without_signal": sum(m == "fti-nosignal" for m in fc.model) if model == "fti" else None,
            })  # fmt: skip
        naive = train[:, end - 52 : end][:, np.arange(h) % 52]  # by hand: the same week a year earlier
        out.setdefault("_check", []).append(float(np.mean(seasonal_mase(test, naive, train))))
    return out


def summarise(runs: list[dict]) -> dict:
    """Mean and standard deviation over the origins of each figure."""
    frame = pd.DataFrame(runs)
    out = {f"{c}_{s}": float(frame[c].std(ddof=0) if s == "std" else frame[c].mean())
           for c in ("mase", "accuracy", "cover80") for s in ("mean", "std")}  # fmt: skip
    return {**out, "seconds": float(frame["seconds"].sum())}


def main(argv: list[str] | None = None) -> dict:
    """Command line: ``python -m benchmarks.forecast --test-weeks 52 --origins 1``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=os.environ.get("FTI_TREND_SERIES", "../shared/data/fashion-trend-series"))
    parser.add_argument("--test-weeks", type=int, default=52)
    parser.add_argument("--origins", type=int, default=1)
    parser.add_argument("--origin-step", type=int, default=13, help="weeks between two origins")
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODELS))
    if unknown or args.origins < 1 or args.test_weeks < 1:
        parser.error(f"unknown models {unknown}" if unknown else "--origins and --test-weeks must be >= 1")
    weeks, main_frame, signal_frame = load_folder(args.series)
    shortest = len(weeks) - args.test_weeks - (args.origins - 1) * args.origin_step
    if shortest < TrendModel().min_weeks:
        raise ValueError(f"{args.series}: the earliest origin leaves {shortest} training weeks; "
                         f"{TrendModel().min_weeks} needed")  # fmt: skip
    y = main_frame.to_numpy(dtype=float).T
    reasons = usable(y[:, : len(weeks) - args.test_weeks])
    keep = reasons == ""
    s = None if signal_frame is None else signal_frame.to_numpy(dtype=float).T[keep]
    no_signal = len(main_frame.columns) if s is None else int((~np.isfinite(s).all(axis=1)).sum())
    skipped = {r: int((reasons == r).sum()) for r in sorted(set(reasons) - {""})}
    if not keep.any():
        raise SystemExit(f"no usable series in {args.series}: {skipped}")
    result = backtest(y[keep], s, args.test_weeks, args.origins, args.origin_step, models)
    check = result.pop("_check")
    rows = {m: summarise(r) for m, r in result.items()}
    print(f"forecast backtest on {args.series}: {int(keep.sum())} weekly series ({weeks[0]} .. {weeks[-1]}), "
          f"the last {args.test_weeks} weeks from all weeks before, {args.origins} origin(s) {args.origin_step} "
          "weeks apart")  # fmt: skip
    print(f"skipped: {skipped or 'none'}; series without a signal: {no_signal}; load {os.getloadavg()[0]:.2f}")
    print(f"{'model':<22}{'MASE':>8}{'± sd':>8}{'accuracy':>10}{'± sd':>7}{'cover80':>9}{'seconds':>9}")
    for m, r in rows.items():
        print(f"{LABELS.get(m, m):<22}{r['mase_mean']:>8.3f}{r['mase_std']:>8.3f}{r['accuracy_mean']:>10.2f}"
              f"{r['accuracy_std']:>7.2f}{r['cover80_mean']:>9.2f}{r['seconds']:>9.1f}")  # fmt: skip
    if "seasonal-naive" in rows:
        by_hand = float(np.mean(check))
        same = abs(by_hand - rows["seasonal-naive"]["mase_mean"]) < 1e-9
        print(
            f"metric check: seasonal naive by hand {by_hand:.4f} ({'same' if same else 'DIFFERS'} as statsforecast's)"
        )
    summary = None
    if DEFAULT in rows:
        naive = rows.get("seasonal-naive", {}).get("mase_mean", float(np.mean(check)))
        summary = (f"forecast: default MASE {rows[DEFAULT]['mase_mean']:.3f}, seasonal naive MASE {naive:.3f}, "
                   f"accuracy {rows[DEFAULT]['accuracy_mean']:.2f}")  # fmt: skip
        print(summary)
    report = {"series": args.series, "weeks": [weeks[0], weeks[-1]], "test_weeks": args.test_weeks,
              "origins": args.origins, "origin_step": args.origin_step, "used": int(keep.sum()), "skipped": skipped,
              "without_signal": no_signal, "rows": rows, "per_origin": result, "naive_by_hand": check,
              "summary": summary, "loadavg": list(os.getloadavg())}  # fmt: skip
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
