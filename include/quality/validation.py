"""Validate one crawl batch with a Great Expectations checkpoint and quarantine it when it fails.

The manifest of a batch (``<prefix>manifest.parquet``) is loaded into pandas, a computed ``decodes`` column
says whether each row's image can be fully decoded by Pillow, and an ephemeral GX context runs one checkpoint
over it. The result is written to ``<prefix>validation.json``; a failed batch is moved to ``quarantine/...``
so nothing from it is embedded. Great Expectations is imported lazily: importing this module (for example
while Airflow parses a DAG) stays cheap.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd
from PIL import Image

from include.core.layout import MANIFEST, MANIFEST_COLUMNS, VALIDATION, quarantine_prefix

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

    from include.core.lake import Lake

log = logging.getLogger(__name__)

FORMATS = ["JPEG", "PNG", "WEBP"]
REQUIRED = ["sha256", "source", "kind", "image_url", "image_key", "crawled_at", "format", "width", "height"]
PORTAL_REQUIRED = ["product_id", "title"]
_PREFIX_RE = re.compile(r"^batches/kind=(?P<kind>[^/]+)/source=(?P<source>[^/]+)/dt=(?P<dt>[^/]+)/$")


@dataclass
class ValidationReport:
    """Outcome of validating one batch; ``validation.json`` holds it as JSON.

    Attributes:
        batch_prefix: The validated batch prefix (``batches/kind=.../source=.../dt=.../``).
        success: Whether every expectation passed.
        rows: Rows in the manifest.
        failed_expectations: Names of the failed expectations, ``type(column)`` with an optional condition.
        statistics: GX statistics plus ``decode_failures`` and ``duration_s``.
        quarantined_to: The quarantine prefix the batch was moved to, else ``None``.
        results: One summary per expectation (type, column, condition, success, unexpected count, examples).
    """

    batch_prefix: str
    success: bool
    rows: int
    failed_expectations: list[str]
    statistics: dict
    quarantined_to: str | None = None
    results: list[dict] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(asdict(self), indent=2, default=str)

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        """Parse a report written by :meth:`to_json`."""
        return cls(**json.loads(text))


class BatchValidationError(RuntimeError):
    """A batch failed validation (or could not be validated at all)."""

    def __init__(self, report_or_message: ValidationReport | str) -> None:
        if isinstance(report_or_message, ValidationReport):
            report = report_or_message
            message = (
                f"batch {report.batch_prefix} failed validation "
                f"({report.rows} rows): {', '.join(report.failed_expectations) or 'unknown failure'}"
            )
            if report.quarantined_to:
                message += f"; quarantined to {report.quarantined_to}"
            self.report: ValidationReport | None = report
        else:
            message, self.report = report_or_message, None
        super().__init__(message)


def raise_for_failure(report: ValidationReport) -> ValidationReport:
    """Raise :class:`BatchValidationError` when ``report`` failed; else return it."""
    if not report.success:
        raise BatchValidationError(report)
    return report


def validate_batch(
    lake: Lake, prefix: str, *, min_image_side: int, min_rows: int, quarantine: bool = True
) -> ValidationReport:
    """Validate the batch at ``prefix`` with a GX checkpoint; quarantine it when it fails.

    Args:
        lake: The lake holding the batch and its images.
        prefix: Batch prefix, ``batches/kind=<k>/source=<s>/dt=<d>/``.
        min_image_side: Smallest accepted ``width`` and ``height`` in pixels.
        min_rows: Smallest accepted number of manifest rows.
        quarantine: Move a failed batch to ``quarantine/kind=<k>/source=<s>/dt=<d>/``.

    Returns:
        The report, also written to ``prefix + validation.json`` (and into the quarantine prefix when moved).
        A failed batch does not raise here: pass the report to :func:`raise_for_failure`.

    Raises:
        BatchValidationError: The manifest is missing or unreadable.
        ValueError: ``quarantine`` is set and ``prefix`` does not follow the batch layout.
    """
    started = time.monotonic()
    prefix = _norm(prefix)
    match = _PREFIX_RE.match(prefix)
    if quarantine and match is None:
        raise ValueError(f"{prefix!r} is not a batch prefix (batches/kind=<k>/source=<s>/dt=<d>/)")
    manifest_key = prefix + MANIFEST
    if not lake.exists(manifest_key):
        raise BatchValidationError(f"batch {prefix} has no manifest: {lake.uri(manifest_key)} does not exist")
    try:
        df = pd.read_parquet(io.BytesIO(lake.read_bytes(manifest_key)))
    except Exception as exc:  # any parse error means the same thing
        raise BatchValidationError(f"batch {prefix}: unreadable manifest {lake.uri(manifest_key)}: {exc}") from exc

    keys = df["image_key"].tolist() if "image_key" in df.columns else [None] * len(df)
    df["decodes"] = _decode_flags(lake, keys)
    result = _run_checkpoint(df, min_image_side=min_image_side, min_rows=min_rows)

    results = [_summarise(r) for r in result.results]
    statistics = dict(result.statistics)
    statistics["decode_failures"] = int((~df["decodes"]).sum())
    statistics["duration_s"] = round(time.monotonic() - started, 3)
    report = ValidationReport(
        batch_prefix=prefix,
        success=bool(result.success),
        rows=len(df),
        failed_expectations=[r["name"] for r in results if not r["success"]],
        statistics=statistics,
        results=results,
    )
    lake.write_text(prefix + VALIDATION, report.to_json())
    if report.success:
        log.info("batch %s passed validation (%d rows)", prefix, report.rows)
    else:
        log.warning("batch %s failed: %s", prefix, ", ".join(report.failed_expectations))
        if quarantine and match is not None:
            _quarantine(lake, prefix, quarantine_prefix(**match.groupdict()), report)
    return report


def _norm(prefix: str) -> str:
    return prefix.rstrip("/") + "/"


def _decode_flags(lake: Lake, keys: list[Any]) -> list[bool]:
    """Whether each image key can be read from the lake and fully decoded by Pillow (in a thread pool).

    The warning filters are process-wide, so one ``catch_warnings`` block around the whole pool makes
    ``DecompressionBombWarning`` an error in every worker (``catch_warnings`` itself is not thread-safe and
    must not be entered per thread). Each worker holds one image at a time, so memory stays bounded.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            return list(pool.map(partial(_decodes, lake), keys))


def _decodes(lake: Lake, key: Any) -> bool:
    """Whether ``key`` exists and Pillow opens and fully ``load()``s it (decompression bombs fail)."""
    if not isinstance(key, str) or not key:
        return False
    try:
        with Image.open(io.BytesIO(lake.read_bytes(key))) as image:
            image.load()
    except Exception:  # missing, unreadable, truncated, bomb...: all mean "does not decode"
        return False
    return True


def _run_checkpoint(df: pd.DataFrame, *, min_image_side: int, min_rows: int) -> ExpectationSuiteValidationResult:
    """Run the batch expectations over ``df`` through an ephemeral GX context and checkpoint."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.row_conditions import Column

    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:
        gx_logger.setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (
        context.data_sources.add_pandas("lake")
        .add_dataframe_asset("manifest")
        .add_batch_definition_whole_dataframe("whole_manifest")
    )
    expectations: list[Any] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=[*MANIFEST_COLUMNS, "decodes"], exact_match=False),
        gxe.ExpectTableRowCountToBeBetween(min_value=min_rows),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in REQUIRED),
        *(
            gxe.ExpectColumnValuesToNotBeNull(column=c, row_condition=Column("kind") == "portal")
            for c in PORTAL_REQUIRED
        ),
        gxe.ExpectColumnValuesToBeUnique(column="sha256"),
        gxe.ExpectColumnValuesToMatchRegex(column="sha256", regex=r"^[0-9a-f]{64}$"),
        gxe.ExpectColumnValuesToBeInSet(column="format", value_set=FORMATS),
        gxe.ExpectColumnValuesToBeBetween(column="width", min_value=min_image_side),
        gxe.ExpectColumnValuesToBeBetween(column="height", min_value=min_image_side),
        gxe.ExpectColumnValuesToBeInSet(column="decodes", value_set=[True]),
    ]
    suite = context.suites.add(gx.ExpectationSuite(name="crawl_batch", expectations=expectations))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="crawl_batch", data=batch_definition, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(name="crawl_batch", validation_definitions=[definition], result_format="SUMMARY")
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": df})
    return next(iter(outcome.run_results.values()))


def _summarise(outcome: Any) -> dict:
    """Short JSON summary of one GX ``ExpectationValidationResult``."""
    described = outcome.describe_dict()
    kwargs = described.get("kwargs") or {}
    result = described.get("result") or {}
    column = kwargs.get("column")
    name = described["expectation_type"] + (f"({column})" if column else "")
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict) and "operator" in condition:
        condition = f"{condition['column']['name']} {condition['operator']} {condition['parameter']!r}"
    if condition:
        name += f"[{condition}]"
    summary: dict[str, Any] = {
        "name": name,
        "expectation_type": described["expectation_type"],
        "column": column,
        "row_condition": condition,
        "success": bool(described.get("success")),
        "unexpected_count": result.get("unexpected_count"),
    }
    if "observed_value" in result:
        summary["observed_value"] = result["observed_value"]
    if result.get("partial_unexpected_list"):
        summary["unexpected_examples"] = result["partial_unexpected_list"][:5]
    info = outcome.exception_info or {}  # flat, or one entry per failed metric
    errors = [info] if "raised_exception" in info else [e for e in info.values() if isinstance(e, dict)]
    messages = sorted({str(e.get("exception_message")) for e in errors if e.get("raised_exception")})
    if messages:
        summary["exceptions"] = messages
    return summary


def _quarantine(lake: Lake, prefix: str, target: str, report: ValidationReport) -> None:
    """Move the batch to ``target`` with its report: written there whole (include.core.replace), then dropped."""
    from include.core.replace import replace_prefix

    files = {key[len(prefix) :]: lake.read_bytes(key) for key in lake.list(prefix)}
    report.quarantined_to = target
    files[VALIDATION] = report.to_json().encode()
    replace_prefix(lake, target, files, last=VALIDATION)  # a kill half-way leaves the batch where it was
    lake.delete_prefix(prefix)
    log.warning("batch %s quarantined to %s", prefix, target)
