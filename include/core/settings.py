"""One typed settings object for every stage.

Values come from environment variables prefixed ``FTI_`` (for example ``FTI_LAKE=s3://bucket/fti``) and fall
back to the embedded defaults below, which run the whole pipeline offline against the demo web. Secrets are
never stored here: S3 credentials come from the standard AWS chain or the Airflow connection ``aws_default``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


class MilvusUriRequired(ValueError):
    """An S3 lake without a configured Milvus URI: there is no shared default for the index."""


class Settings(BaseSettings):
    """Typed configuration of FTI, read from ``FTI_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="FTI_", extra="ignore")

    lake: str = Field("./lake", description="Local folder or s3://bucket/prefix holding batches and reports.")
    s3_endpoint_url: str | None = Field(None, description="Custom S3 endpoint (MinIO, moto); else AWS.")
    aws_conn_id: str = Field("aws_default", description="Airflow connection giving S3 credentials.")
    sources_file: Path = Field(PACKAGE_DIR / "sources.yaml", description="The source registry.")
    demo_web_url: str = Field("http://127.0.0.1:8765", description="Base URL of `fti demo-web`.")

    milvus_uri: str | None = Field(None, description="Milvus Lite file or http://host:19530; default in lake.")
    milvus_token: str | None = Field(None, description="Milvus token (user:password) for a real server.")
    collection: str = Field("catalog", description="Catalog collection (or alias) name in Milvus.")
    index_type: str = Field("HNSW", pattern="^(?i:HNSW|IVF_FLAT)$", description="Vector index: HNSW or IVF_FLAT.")
    hnsw_m: int = Field(16, ge=2, description="HNSW graph degree M.")
    hnsw_ef_construction: int = Field(200, ge=8, description="HNSW efConstruction.")
    hnsw_ef: int = Field(128, ge=1, description="HNSW search-time ef (raised to top_k when lower).")
    ivf_nlist: int = Field(1024, ge=1, description="IVF_FLAT cells.")
    ivf_nprobe: int = Field(32, ge=1, description="IVF_FLAT cells scanned per query.")
    search_path: str = Field(
        "auto", pattern="^(auto|milvus|memory)$",
        description="Who answers searches: auto (Milvus Lite: in memory; server: Milvus), milvus, or memory.",
    )  # fmt: skip
    exact_search_max_rows: int = Field(20_000, ge=0, description="In memory: exact search up to this many rows.")
    memory_search_max_rows: int = Field(2_000_000, ge=0, description="In memory: HNSW up to this many rows.")
    index_keep_versions: int = Field(2, ge=0, description="Previous catalog collections kept for rollback.")
    reindex_min_recall: float = Field(0.99, ge=0, le=1, description="recall@10 a new collection must reach.")
    reindex_sample: int = Field(200, ge=1, description="Query rows of the re-index recall check.")
    tombstone_after_crawls: int = Field(3, ge=1, description="Products absent this many crawls leave the index.")
    milvus_lock_timeout: float = Field(1800.0, ge=0, description="Seconds to wait for a Milvus Lite file's lock.")

    model_name: str = Field("tf_efficientnet_lite0", description="timm backbone used for embeddings.")
    pretrained: bool = Field(True, description="Load offline ImageNet weights for the backbone.")
    train_config: Path | None = Field(None, description="Training YAML for train_embedder (default: built-in).")
    colour_weight: float = Field(0.5, ge=0, description="Weight of the colour histogram in each vector (0: off).")
    embed_batch_size: int = Field(32, ge=1)
    embed_workers: int = Field(-1, ge=-1, description="Decoding processes (0: inline; -1: auto, see embedding.loader).")
    embed_decode: str = Field("auto", pattern="^(auto|cpu|device)$", description="nvJPEG on the GPU, Pillow, or auto.")
    embed_forward_batch: int = Field(0, ge=0, description="Images per forward call (0: auto, 8 on CPU).")
    embed_read_threads: int = Field(8, ge=1, description="Threads reading image bytes for GPU decoding.")
    embed_precision: str = Field(
        "auto", pattern="^(auto|fp32|bf16)$",
        description="Forward precision: bf16 autocast on CUDA and on CPUs with native bf16 (auto), or forced.",
    )  # fmt: skip
    embed_projection_dim: int = Field(
        0, ge=0, description="PCA width of the pretrained backbone's features, fitted on the catalog (0: off)."
    )
    embed_projection_whiten: bool = Field(False, description="Whiten the PCA of embed_projection_dim.")
    embed_projection_sample: int = Field(5000, ge=2, description="Catalog images the projection is fitted on.")
    device: str = Field("auto", description="'auto' uses CUDA when present, else CPU.")
    image_fit: str = Field(
        "pad", pattern="^(pad|crop)$",
        description="Square fit of every image, training and serving alike: white pad or centre crop (no squash).",
    )  # fmt: skip

    min_image_side: int = Field(64, ge=1, description="Images smaller than this (pixels) fail validation.")
    min_batch_rows: int = Field(1, ge=0, description="A batch with fewer rows fails validation.")
    max_items_per_crawl: int = Field(5000, ge=1)
    max_bytes_per_crawl: int = Field(2 * 1024**3, ge=1)
    max_image_bytes: int = Field(20 * 1024**2, ge=1)
    http_cache: bool = Field(False, description="Development: replay crawls from Scrapy's HTTP cache.")
    http_cache_dir: str = Field(".fti/httpcache", description="Where the development HTTP cache lives.")
    retry_after_max_seconds: float = Field(60.0, ge=0, description="Cap on a Retry-After/backoff wait.")
    loopback_only: bool = Field(False, description="Crawlers refuse every host outside 127.0.0.0/8 (tests, CI).")
    # Crawl lifetime (crawlers/lifetime.py; README "Crawling safely").
    crawl_lock_dir: str | None = Field(None, description="Folder of the per-(source, date) crawl locks (default: tmp).")
    crawl_lock_wait_seconds: float = Field(30.0, ge=0, description="Wait for another crawl of the partition.")

    retries: int = Field(2, ge=2, description="Airflow task retries (at least 2).")
    retry_delay_seconds: float = Field(120.0, ge=0, description="First Airflow retry delay (then exponential).")
    # Operations (include/ops/notify.py, include/ops/status.py, dags/fti_freshness.py; docs/operations.md).
    alerts_conn_id: str = Field("fti_alerts", description="Airflow connection of the alert webhook (optional).")
    freshness_max_hours: float = Field(30.0, gt=0, description="A latest report older than this raises an alert.")

    top_k: int = Field(5, ge=1, description="Catalog neighbours retrieved per social image.")
    match_threshold: float = Field(0.5, description="Cosine similarity below which a neighbour is no match.")
    match_margin: float = Field(0.0, ge=0, description="Neighbours within this of the best one also vote.")
    report_top_n: int = Field(50, ge=1, description="Designs kept in the published table.")
    # Garment regions of social photos (embedding/regions.py; docs/training.md "Street photos").
    social_regions: str = Field(
        "whole", pattern="^(whole|regions)$",
        description="Match each social photo whole, or each detector-free garment region of it on its own.",
    )  # fmt: skip
    region_model: str = Field("tf_efficientnet_lite0", description="Offline classifier whose activations localise.")
    region_size: int = Field(448, ge=64, description="Input side of the region localisation pass.")
    max_regions: int = Field(6, ge=1, description="Garment regions kept per social photo.")
    region_min_score: float = Field(0.25, ge=0, le=1, description="Garment probability below which a photo has none.")
    # Trend scoring, momentum, themes (include/trends/scoring.py, momentum.py, themes.py; docs/reports.md).
    recency_half_life_hours: float = Field(72.0, gt=0, description="A post's vote halves every this many hours.")
    min_source_posts: int = Field(20, ge=1, description="A source showing fewer posts is divided by this many.")
    source_weights: dict[str, float] = Field(default_factory=dict, description="Source weights (over sources.yaml).")
    near_duplicate_similarity: float = Field(0.97, description="Catalog images this similar are one design.")
    min_support_posts: int = Field(2, ge=1, description="A design needs this many matching posts to be ranked.")
    momentum_change: float = Field(0.25, ge=0, description="Relative score change that counts as rising/falling.")
    momentum_runs: int = Field(3, ge=1, description="Momentum compares with the mean score of this many runs.")
    theme_distance: float = Field(0.2, gt=0, description="Cosine distance threshold of theme clustering.")
    min_theme_posts: int = Field(2, ge=1, description="Smallest theme (matched posts).")
    # Money (include/trends/money.py): one currency per published table, the original price kept.
    report_currency: str = Field("GBP", pattern="^[A-Z]{3}$", description="Currency of the published prices.")
    currency_rates: dict[str, float] = Field(
        default_factory=dict, description="Units of report_currency per unit of each other currency (JSON)."
    )
    # Nightly readiness of rank_trends (include/ops/readiness.py; docs/operations.md).
    rank_schedule: str = Field(
        "0 1 * * *", description="Cron of rank_trends (UTC); it then waits for its inputs ('': manual runs only)."
    )
    rank_cutoff_hours: float = Field(
        10.0, ge=0, description="Hours after midnight UTC of a date when it is ranked with whatever has arrived."
    )
    readiness_poke_seconds: float = Field(600.0, gt=0, description="How often rank_trends re-reads the lake.")
    readiness_lookback_days: int = Field(7, ge=1, description="A source seen this recently is waited for.")
    readiness_sources: list[str] | None = Field(None, description="Sources to wait for (default: the active ones).")
    # Trend forecasts (include/trends/forecast.py; docs/reports.md).
    forecast_weeks: int = Field(52, ge=1, description="Weeks ahead each trend series is forecast.")
    trend_threshold: float = Field(0.5, gt=0, description="Year-over-year change that counts as rising/declining.")

    def resolved_milvus_uri(self) -> str:
        """Milvus URI: the configured one, else a Milvus Lite file beside a local lake.

        Raises:
            MilvusUriRequired: the lake is on S3 and no ``FTI_MILVUS_URI`` is set (a Lite file in each worker's
                working directory would give every worker its own index).
        """
        if self.milvus_uri:
            return self.milvus_uri
        if self.lake.startswith("s3://"):
            raise MilvusUriRequired(
                f"FTI_MILVUS_URI is required with an S3 lake ({self.lake}): set it to the Milvus server every "
                "worker shares (http://host:19530); a default Milvus Lite file would live in each worker's working "
                "directory, one index per worker"
            )
        return str((Path(self.lake) / "index" / "milvus.db").resolve())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env vars)."""
    return Settings()
