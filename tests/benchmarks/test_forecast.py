"""bench-forecast on a tiny folder in the F1 layout that the test writes: the table, the check, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.forecast import load_folder, main
from tests.include.trends.test_models import block


def folder(tmp_path, weeks=140, n=8, drop_signal=("s7",), bad=True):
    y, signal, _ = block(n=n, weeks=weeks, h=0)
    index = [d.strftime("%Y-%m-%d") for d in pd.date_range("2020-01-06", periods=weeks, freq="7D")]
    main_frame = pd.DataFrame(y.T, index=index, columns=[f"s{i}" for i in range(n)])
    if bad:
        main_frame["nan"] = main_frame["s0"].where(main_frame.index != index[40])  # a hole
        main_frame["flat"] = 0.5  # no year-over-year change: MASE undefined
    signal_frame = pd.DataFrame(signal.T, index=index, columns=[f"s{i}" for i in range(n)])
    main_frame.rename_axis("week").to_csv(tmp_path / "main.csv")
    signal_frame.drop(columns=list(drop_signal)).rename_axis("week").to_csv(tmp_path / "signal.csv")
    return tmp_path


def test_backtest_table_and_summary(tmp_path, capsys):
    out = tmp_path / "out" / "forecast.json"
    report = main(["--series", str(folder(tmp_path)), "--test-weeks", "52", "--origins", "2", "--origin-step", "4",
                   "--models", "seasonal-naive,fti,fti-nosignal", "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert report["used"] == 8 and report["skipped"] == {"NaN or missing values": 1,
                                                         "no year-over-year change (constant)": 1}  # fmt: skip
    assert report["without_signal"] == 1 and report["per_origin"]["fti"][0]["without_signal"] == 1
    rows = report["rows"]
    assert set(rows) == {"seasonal-naive", "fti", "fti-nosignal"}
    assert rows["fti"]["mase_mean"] < rows["seasonal-naive"]["mase_mean"]  # trending series: naive lags
    assert [r["end_week"] for r in report["per_origin"]["fti"]] == [88, 84]
    assert report["naive_by_hand"] == pytest.approx([r["mase"] for r in report["per_origin"]["seasonal-naive"]])
    assert "metric check: seasonal naive by hand" in printed and "(same as statsforecast's)" in printed
    last = printed.strip().splitlines()[-1]
    fti, naive = rows["fti"], rows["seasonal-naive"]
    assert last == (f"forecast: default MASE {fti['mase_mean']:.3f}, seasonal naive MASE {naive['mase_mean']:.3f}, "
                    f"accuracy {fti['accuracy_mean']:.2f}")  # fmt: skip
    assert "fti without signal" in printed and out.exists()


def test_bad_folders_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no main.csv"):
        load_folder(tmp_path)
    (tmp_path / "good").mkdir()
    good = folder(tmp_path / "good", weeks=60, bad=False)
    frame = pd.read_csv(good / "main.csv", index_col=0)
    frame.drop(index=frame.index[10]).to_csv(good / "main.csv")
    with pytest.raises(ValueError, match="weeks must follow each other"):
        load_folder(good)
    frame.iloc[:1].to_csv(good / "main.csv")
    with pytest.raises(ValueError, match="1 week"):
        load_folder(good)
    frame.to_csv(good / "main.csv")
    with pytest.raises(ValueError, match="future week"):
        load_folder(good, today=pd.Timestamp(frame.index[-2]).date())
    with pytest.raises(ValueError, match="78 needed"):  # 60 weeks cannot hold a year to test and 78 to learn from
        main(["--series", str(good), "--models", "fti"])
    assert np.isfinite(load_folder(good)[1].to_numpy()).all()
