"""The floor every stage stands on: typed settings, the lake and its key layout, the source registry, helpers.

Holds :mod:`~include.core.settings` (the one settings object), :mod:`~include.core.lake` (local folder or S3),
:mod:`~include.core.layout` (every lake key), :mod:`~include.core.sources` with ``sources.yaml`` (the registry),
and small shared helpers (ports, progress bars, hashing, device choice). May import nothing of the project
outside ``include.core``: every other room imports it, so it never imports them.
"""
