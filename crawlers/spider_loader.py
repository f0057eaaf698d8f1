"""``scrapy list`` / ``scrapy crawl <source>``: one spider per registry source besides the generic spider types.

Scrapy's default loader finds the spider *types* in ``crawlers.spiders``. This loader adds one spider per entry of
``include/core/sources.yaml``, named after the source: a subclass of its type with the source's arguments bound and its
per-source settings (lake, batch partition of today's date, limits, allowed private hosts) as ``custom_settings``.
``scrapy crawl asos`` therefore runs what the ``crawl_asos`` DAG runs (command-line ``-a``/``-s`` still win).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import Spider
from scrapy.spiderloader import SpiderLoader

log = logging.getLogger(__name__)


class SourceSpiderLoader(SpiderLoader):
    """Spider types plus one bound spider per registry source."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        from include.core.sources import load_registry

        self._sources = {}
        try:
            registry = load_registry()
        except Exception as exc:  # a broken registry must not hide the spider types
            log.error("source registry not loaded: %s", exc)
            return
        for source in registry.sources:
            if source.name in self._spiders:
                log.warning("source %s has the name of a spider type; `scrapy crawl` runs the type", source.name)
                continue
            self._sources[source.name] = source

    def list(self) -> list[str]:  # noqa: D102 (Scrapy interface)
        return sorted([*super().list(), *self._sources])

    def load(self, spider_name: str) -> type[Spider]:  # noqa: D102 (Scrapy interface)
        source = self._sources.get(spider_name)
        if source is None:
            return super().load(spider_name)
        from crawlers.crawl import source_settings
        from include.core.settings import get_settings

        base = super().load(source.spider)
        dt = datetime.now(UTC).date().isoformat()
        return type(
            f"{base.__name__}_{source.name}",
            (base,),
            {
                "name": source.name,
                "__doc__": f"Source {source.name!r} ({source.kind}) of {source.spider}: {base.__doc__}",
                "__module__": base.__module__,
                "bound_args": source.resolved_args(get_settings().demo_web_url),
                "custom_settings": {**(base.custom_settings or {}), **source_settings(source, dt)},
            },
        )
