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

    model_name: str = Field("tf_efficientnet_lite0", description="timm backbone used for embeddings.")
    pretrained: bool = Field(True, description="Load offline ImageNet weights for the backbone.")
    colour_weight: float = Field(0.5, ge=0, description="Weight of the colour histogram in each vector (0: off).")
    embed_batch_size: int = Field(32, ge=1)
    embed_workers: int = Field(0, ge=0, description="DataLoader worker processes for decoding.")
    device: str = Field("auto", description="'auto' uses CUDA when present, else CPU.")

    min_image_side: int = Field(64, ge=1, description="Images smaller than this (pixels) fail validation.")
    min_batch_rows: int = Field(1, ge=0, description="A batch with fewer rows fails validation.")
    max_items_per_crawl: int = Field(5000, ge=1)
    max_bytes_per_crawl: int = Field(2 * 1024**3, ge=1)
    max_image_bytes: int = Field(20 * 1024**2, ge=1)

    retries: int = Field(2, ge=2, description="Airflow task retries (at least 2).")
    retry_delay_seconds: float = Field(120.0, ge=0, description="First Airflow retry delay (then exponential).")

    top_k: int = Field(5, ge=1, description="Catalog neighbours retrieved per social image.")
    match_threshold: float = Field(0.5, description="Cosine similarity below which a neighbour is no match.")
    match_margin: float = Field(0.0, ge=0, description="Neighbours within this of the best one also vote.")
    report_top_n: int = Field(50, ge=1, description="Designs kept in the published table.")

    def resolved_milvus_uri(self) -> str:
        """Milvus URI: the configured one, else a Milvus Lite file beside a local lake."""
        if self.milvus_uri:
            return self.milvus_uri
        if self.lake.startswith("s3://"):
            return str(Path(".fti/milvus.db").resolve())
        return str((Path(self.lake) / "index" / "milvus.db").resolve())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env vars)."""
    return Settings()
