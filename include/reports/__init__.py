"""Reporting: the published table's schema, the HTML report and atomic publishing to the lake.

Holds :mod:`~include.reports.schema` (the column contract), :mod:`~include.reports.html` (the self-contained
report page) and :mod:`~include.reports.publishing` (write, verify against checksums, switch ``latest.json``).
May import :mod:`include.core` only: the ranking stage hands it plain tables.
"""
