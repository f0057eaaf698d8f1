"""The compose files parse and agree with the code: FTI_* variables are settings fields, the Airflow image is built
from the repository's Dockerfile and pyproject, hosts and ports point at declared services, volumes are declared.

No Docker engine runs here, so nothing is started; ``docker compose config`` runs too when the plugin exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from include.core.settings import Settings
from include.ops.airflow_support import MILVUS_POOL

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
AIRFLOW_SERVICES = {
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    "airflow-worker": ["celery", "worker"],
}
VAR = re.compile(r"\$\{([A-Z0-9_]+)")
SUBST = re.compile(r"\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}")


def env_example() -> dict[str, str]:
    lines = (DOCKER / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution (``${V}``, ``${V:-default}``, ``${V:?error}``, ``$$``) with ``env``."""

    def one(m: re.Match) -> str:
        value = env.get(m[1], "")
        if value:
            return value
        if m[2] == "?":
            raise AssertionError(f"{m[1]} is required: {m[3]}")
        return m[3] or ""

    return SUBST.sub(one, text).replace("$$", "$")


@pytest.fixture(scope="module")
def compose() -> dict:
    """compose.yaml as ``docker compose --env-file docker/.env.example config`` would see it."""
    return yaml.safe_load(interpolate((DOCKER / "compose.yaml").read_text(), env_example()))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_production_services_exist(services):
    expected = {*AIRFLOW_SERVICES, "airflow-init", "postgres", "redis", "minio", "milvus", "milvus-etcd",
                "milvus-minio"}  # fmt: skip
    assert expected <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name


def test_airflow_runs_celery_on_postgres_and_redis_from_the_repo_image(services):
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for name in [*AIRFLOW_SERVICES, "airflow-init"]:
        svc = services[name]
        build = svc["build"]
        assert (DOCKER / build["context"]).resolve() == REPO and (REPO / build["dockerfile"]).resolve() == (
            DOCKER / "Dockerfile"
        )
        env = env_of(svc)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert urlparse(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
        assert urlparse(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
        execution = urlparse(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert execution.hostname == "airflow-apiserver" and execution.port == 8080
    assert services["airflow-apiserver"]["ports"] == [f"{env_example()['AIRFLOW_PORT']}:8080"]
    # The image installs the project from the same pyproject.toml, with its Python version and the deploy extra.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    version = re.search(r"ARG PYTHON_VERSION=(\d+\.\d+)", dockerfile)[1]
    assert f">={version}" in project["requires-python"]
    assert "COPY pyproject.toml" in dockerfile and 'pip install ".[deploy]"' in dockerfile
    deploy = " ".join(project["optional-dependencies"]["deploy"])
    for provider in ("celery", "postgres", "redis", "amazon"):
        assert f"apache-airflow-providers-{provider}==" in deploy
    for package in ("crawlers", "training", "embedding", "include", "dags"):
        assert f"COPY --chown=50000:0 {package}/ {package}/" in dockerfile
        assert (REPO / package).is_dir()
    assert "playwright install" not in dockerfile  # no browser or model downloads in the image


def test_every_fti_variable_is_a_settings_field(services):
    fields = set(Settings.model_fields)
    texts = [(DOCKER / name).read_text() for name in ("compose.yaml", "compose.gpu.yaml", ".env.example")]
    names = {m for text in texts for m in VAR.findall(text)} | {
        line.split("=", 1)[0] for line in texts[2].splitlines() if "=" in line and not line.startswith("#")
    }
    gpu = yaml.safe_load(texts[1])["services"]
    for svc in [*services.values(), *gpu.values()]:
        names |= set(env_of(svc))
    fti = {n for n in names if n.startswith("FTI_")}
    assert fti, "no FTI_* variable found"
    unknown = sorted(n for n in fti if n.removeprefix("FTI_").lower() not in fields)
    assert not unknown, f"not settings fields: {unknown}"
    Settings(**{n.removeprefix("FTI_").lower(): v for n, v in env_of(gpu["airflow-worker"]).items()
                if n.startswith("FTI_") and "$" not in v})  # fmt: skip  # values validate, e.g. device=cuda


def test_the_lake_and_milvus_point_at_declared_services_and_ports(services):
    env = env_of(services["airflow-worker"])
    s3 = urlparse(env["FTI_S3_ENDPOINT_URL"])
    assert s3.hostname == "minio" and f"{s3.port}:{s3.port}" in services["minio"]["ports"]
    assert env["FTI_LAKE"].startswith("s3://")
    milvus = urlparse(env["FTI_MILVUS_URI"])
    assert milvus.hostname == "milvus" and milvus.port == 19530
    assert "19530:19530" in services["milvus"]["ports"]
    milvus_env = env_of(services["milvus"])
    assert milvus_env["ETCD_ENDPOINTS"].split(":")[0] == "milvus-etcd"
    assert milvus_env["MINIO_ADDRESS"].split(":")[0] == "milvus-minio"
    assert set(services["airflow-worker"]["depends_on"]) >= {"milvus", "minio", "postgres", "redis", "airflow-init"}


def test_the_init_job_creates_the_milvus_pool_the_dags_use(services):
    script = services["airflow-init"]["command"][-1]
    assert "airflow db migrate" in script
    assert f"airflow pools set {MILVUS_POOL} " in script
    assert "/opt/airflow/auth/passwords.json" in script


def test_volumes_and_dependencies_are_declared(compose, services):
    declared = set(compose["volumes"])
    used = set()
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                used.add(source)
        for dep in svc.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
    assert used == declared


def test_the_gpu_override_gives_the_workers_the_gpus():
    gpu = yaml.safe_load((DOCKER / "compose.gpu.yaml").read_text())["services"]
    worker = gpu["airflow-worker"]
    [device] = worker["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert env_of(worker)["FTI_DEVICE"] == "cuda"


def test_env_example_covers_the_required_variables(services):
    text = (DOCKER / "compose.yaml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = {line.split("=", 1)[0] for line in (DOCKER / ".env.example").read_text().splitlines() if "=" in line}
    assert required and required <= example


@pytest.mark.skipif(not shutil.which("docker"), reason="no docker client")
def test_docker_compose_config_accepts_the_files(tmp_path):
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker client without the compose plugin")
    proc = subprocess.run(
        ["docker", "compose", "--env-file", str(DOCKER / ".env.example"), "-f", str(DOCKER / "compose.yaml"),
         "-f", str(DOCKER / "compose.gpu.yaml"), "config", "--quiet"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
