"""Progress display for long work: a tqdm bar on a terminal, periodic log lines in Airflow task logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int, desc: str) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(n)`` callable backed by a tqdm bar showing items/s."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="img", mininterval=2.0, dynamic_ncols=True) as bar:
        yield bar.update
