"""Validated partitions: a ``dt`` is a real ISO date and a source a registry name, wherever they enter.

Every entry point (``fti`` commands, the DAGs' ``date`` Param, Asset events, stage functions and the layout's
key builders) passes its date and source through :func:`check_dt` / :func:`check_source` before anything is
read or written, so ``2026-13-45`` or ``x/../../source=OTHER/dt=D`` is refused with one clear line instead of
being joined into a lake key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_DT = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[a-z0-9_]+")


class PartitionError(ValueError):
    """A date or source name that cannot name a partition; the message is one line for the user."""


def check_dt(dt: object) -> str:
    """``dt`` as ``YYYY-MM-DD`` when it is a real calendar date, else :class:`PartitionError`.

    A :class:`datetime.date` (or datetime) is accepted and formatted; a string must be exactly ``YYYY-MM-DD``.
    """
    if isinstance(dt, date):
        return dt.strftime("%Y-%m-%d")
    text = dt if isinstance(dt, str) else None
    if text is None or not _DT.fullmatch(text):
        raise PartitionError(f"invalid date {dt!r}: expected a real date YYYY-MM-DD")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise PartitionError(f"invalid date {dt!r}: not a calendar date") from None
    return text


def check_name(name: object, what: str = "source") -> str:
    """``name`` when it is a registry-style name (``[a-z0-9_]+``), else :class:`PartitionError`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise PartitionError(f"invalid {what} name {name!r}: expected lowercase letters, digits and _")
    return name


def check_source(name: object, known: list[str] | None = None) -> str:
    """``name`` when it is a name of the source registry (``known``, default: the configured registry)."""
    check_name(name)
    if known is None:
        from include.core.sources import load_registry

        known = [s.name for s in load_registry().sources]
    if name not in known:
        raise PartitionError(f"unknown source {name!r}; known: {', '.join(sorted(known))}")
    return str(name)


@dataclass(frozen=True)
class Partition:
    """One (source, date) partition, both checked on construction."""

    source: str
    dt: str

    def __post_init__(self) -> None:
        check_name(self.source)
        object.__setattr__(self, "dt", check_dt(self.dt))

    @classmethod
    def of(cls, source: str, dt: object, known: list[str] | None = None) -> Partition:
        """A partition of a *registry* source (unknown names refused, see :func:`check_source`)."""
        return cls(check_source(source, known), check_dt(dt))
