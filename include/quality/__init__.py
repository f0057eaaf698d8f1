"""Batch quality: Great Expectations validation of crawled batches and the reading of validated batches.

Holds :mod:`~include.quality.validation` (the expectation suite, quarantine, ``validation.json``) and
:mod:`~include.quality.batches` (which batches exist and are validated, their manifests). May import
:mod:`include.core` only.
"""
