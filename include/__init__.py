"""What the stages share, and the rooms above them.

``include/`` holds no module of its own: every module lives in a room of one concern, each room's ``__init__``
saying what it holds and what it may import. From the bottom up: :mod:`include.core` (settings, lake, layout,
registry), :mod:`include.quality` (batch validation), :mod:`include.synth` (synthetic garments and scenes),
:mod:`include.reports` and :mod:`include.trends` (the ranking and reporting stages), :mod:`include.demo` (the
demo world and its web) and :mod:`include.ops` (the Airflow support layer, stage entry points, CLI, ``make demo``).
``docs/architecture.md`` draws the whole graph; ``tests/test_architecture.py`` enforces it.
"""
