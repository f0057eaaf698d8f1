"""Synthetic imagery: garments drawn from design parameters and the scenes they are photographed in.

Holds the design parameters (:mod:`~include.synth.designs`), the garment renderer, consumer-style scenes and
the packshot/consumer-view API (:mod:`~include.synth.apparel`). Pure numpy and PIL, with no I/O: the demo world,
the synthetic training data and the benchmarks draw from it. May import :mod:`include.core` only.
"""
