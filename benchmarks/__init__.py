"""The benchmarks, one module per ``make bench-…`` target: ``crawl``, ``embed``, ``search``, ``quality``, ``rank``.

Each prints ratios measured in one run and can write its JSON (``--out``) for ``docs/benchmarks/``. A top room:
it may import every room below it (:mod:`include.ops`, the stages, the demo world, the rooms below them), never
``dags/``; nothing imports it but its tests.
"""
