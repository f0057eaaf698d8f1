"""The ranking stage: from social matches to scored, grouped, themed winning designs.

Holds scoring (votes per post and per source), designs (near-duplicate groups and offers), momentum, themes,
colours, the ranked table (:mod:`~include.trends.ranking`) and the stage's run (:mod:`~include.trends.run`:
match, score, publish one date). May import :mod:`include.core`, :mod:`include.quality`,
:mod:`include.reports` and the ``embedding`` stage (matching); never :mod:`include.ops` or the demo.
"""
