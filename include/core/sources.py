"""The source registry (``include/core/sources.yaml``) as typed objects."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field, model_validator

SPIDER_TYPES = ("jsonld_product", "instagram_hashtag", "pinterest_search", "feed_article")


class Source(BaseModel):
    """One crawled source."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: Literal["social", "portal"]
    horizon: Literal["current", "upcoming"] | None = None
    spider: str
    schedule: str = "@daily"
    enabled: bool = True
    allow_private: bool = False
    editorial: bool = False  # a magazine or blog: its images are looks, not products for sale
    weight: float = Field(1.0, ge=0)  # social: its votes count this much (points per 1,000 posts it showed)
    replayable: bool = False  # its site can serve a past date again (a backfill may re-crawl it); live feeds: false
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Source:
        if self.spider not in SPIDER_TYPES:
            raise ValueError(f"source {self.name}: unknown spider type {self.spider!r} (one of {SPIDER_TYPES})")
        if self.kind == "social" and self.horizon is None:
            raise ValueError(f"source {self.name}: a social source needs a horizon (current | upcoming)")
        if self.kind == "portal" and self.horizon is not None:
            raise ValueError(f"source {self.name}: only social sources have a horizon")
        for value in self.args.values():
            host = (urlsplit(value).hostname or "") if isinstance(value, str) and "://" in value else ""
            if host.endswith(".blogspot.com") and not re.fullmatch(r"[a-z0-9-]+\.blogspot\.com", host):
                raise ValueError(f"source {self.name}: {host} cannot be a Blogger blog (its name has no dots)")
        return self

    def resolved_args(self, demo_web_url: str) -> dict[str, Any]:
        """Spider arguments with ``{demo_web}`` expanded."""
        return {
            k: v.replace("{demo_web}", demo_web_url.rstrip("/")) if isinstance(v, str) else v
            for k, v in self.args.items()
        }


class Registry(BaseModel):
    """All sources, by name."""

    sources: list[Source]

    @model_validator(mode="after")
    def _unique(self) -> Registry:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate source names: {dupes}")
        return self

    def get(self, name: str) -> Source:
        """The source called ``name``; ``KeyError`` naming the known ones otherwise."""
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(f"unknown source {name!r}; known: {[s.name for s in self.sources]}")

    def of_kind(self, kind: str, enabled_only: bool = True) -> list[Source]:
        """Sources of one kind (``social`` or ``portal``)."""
        return [s for s in self.sources if s.kind == kind and (s.enabled or not enabled_only)]


def load_registry(path: str | Path | None = None) -> Registry:
    """Parse and validate the registry file (default: ``settings.sources_file``)."""
    if path is None:
        from include.core.settings import get_settings

        path = get_settings().sources_file
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return Registry.model_validate(data)
