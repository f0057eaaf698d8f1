"""The demo world: a seeded synthetic market served as an offline web that the real spiders crawl.

Holds the world (:mod:`~include.demo.entities`, :mod:`~include.demo.world`: products, posts, planted trends),
the web's shared state (:mod:`~include.demo.app`) and the HTTP server with its shop, Instagram and Pinterest
routes (:mod:`~include.demo.server`, :mod:`~include.demo.shop`, :mod:`~include.demo.social_api`). ``make demo``
itself (running the DAGs on it) is :mod:`include.ops.demo`. May import :mod:`include.synth` and
:mod:`include.core` only: the world knows nothing of the pipeline that crawls it.
"""
