"""The production configuration without servers: GPU queue routing on Omniva's real jobs, the
executor switch, the instance config, and the container/Kubernetes files kept consistent with
what tests/test_production.py runs."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.execution.api import create_execution_plan
from dagster._core.instance.config import dagster_instance_config

from omniva_assets import deployment as production

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def test_celery_queue_routing_rules():
    q = production.celery_queue
    assert q({}, None, {}) == "dagster"
    assert q({"omniva/lane": "gpu"}, None, {}) == "gpu"  # op on the GPU lane
    assert q({}, "render", {"omniva/lane": "gpu"}) == "gpu"  # GPU pool in a GPU-lane run
    assert q({}, "render", {"omniva/lane": "cpu"}) == "dagster"  # same step, CPU-lane run
    assert q({}, "youtube_upload", {"omniva/lane": "gpu"}) == "dagster"  # not a GPU pool
    assert q({"dagster-celery/queue": "special"}, "render", {"omniva/lane": "gpu"}) == "special"
    assert production.gpu_pools({"OMNIVA_GPU_POOLS": "render"}) == ("render",)


def _queues(job_name: str, run_tags: dict) -> dict[str, str]:
    from omniva_assets.definitions import defs

    plan = create_execution_plan(defs.resolve_job_def(job_name))
    routed = production.route_plan(plan, run_tags)
    return {s.key: s.tags[production.QUEUE_TAG] for s in routed.get_all_steps_in_topo_order()}


def test_omniva_gpu_steps_go_to_the_gpu_queue_only_on_the_gpu_lane():
    clip = _queues("clip_job", {"omniva/lane": "gpu"})
    assert clip["renders"] == "gpu"
    assert {k: v for k, v in clip.items() if k != "renders"} == {"clips": "dagster", "clip_copy": "dagster"}
    video = _queues("video_job", {"omniva/lane": "gpu"})
    assert video["transcripts"] == "gpu"
    assert video["videos"] == "dagster" and video["analyses"] == "dagster"
    assert set(_queues("clip_job", {"omniva/lane": "cpu"}).values()) == {"dagster"}
    assert set(_queues("upload_job", {"omniva/lane": "gpu"}).values()) == {"dagster"}


def test_executor_switch():
    # unset: one process per run, its steps one after another (a run is one partition's chain)
    assert production.executor_from_env({}) is dg.in_process_executor
    assert production.executor_from_env({"OMNIVA_EXECUTOR": "in_process"}) is dg.in_process_executor
    assert production.executor_from_env({"OMNIVA_EXECUTOR": "multiprocess"}).name == "multiprocess"
    celery = production.executor_from_env(
        {"OMNIVA_EXECUTOR": "celery", "OMNIVA_CELERY_BROKER": "redis://x/0"}
    )
    assert celery.name == "celery"
    cfg = production.celery_config({"OMNIVA_CELERY_BROKER": "redis://x/0"})
    assert cfg["broker"] == {"env": "OMNIVA_CELERY_BROKER"}  # the URL (and its password) stays in the env
    assert cfg["backend"] == production.DEFAULT_BACKEND
    with pytest.raises(ValueError, match="OMNIVA_EXECUTOR"):
        production.executor_from_env({"OMNIVA_EXECUTOR": "threads"})


def test_definitions_load_with_the_celery_executor():
    code = (
        "from omniva_assets.definitions import defs; "
        "print({j: defs.resolve_job_def(j).executor_def.name for j in ('video_job', 'clip_job', 'upload_job')})"
    )
    env = {**os.environ, "OMNIVA_EXECUTOR": "celery"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith(
        "{'video_job': 'celery', 'clip_job': 'celery', 'upload_job': 'celery'}"
    )


def test_instance_config_is_valid_and_takes_its_numbers(tmp_path):
    production.write_instance_yaml(tmp_path, gpus=2, max_concurrent_runs=12)
    cfg, _ = dagster_instance_config(str(tmp_path))  # Dagster's own schema check (no connection)
    assert cfg["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
    assert cfg["run_coordinator"]["class"] == "QueuedRunCoordinator"
    runs = cfg["concurrency"]["runs"]
    assert runs["max_concurrent_runs"] == 12
    lane = next(lim for lim in runs["tag_concurrency_limits"] if lim["key"] == "omniva/lane")
    assert lane == {"key": "omniva/lane", "value": "gpu", "limit": 2}
    assert production.pool_limits(2, {}) == {"asr": 2, "render": 2, "youtube_upload": 1}
    assert production.pool_limits(0, {"OMNIVA_POOL_LIMITS": "asr=3"})["asr"] == 3
    assert production.pool_limits(0, {})["render"] == 1  # CPU-only host: still one at a time


def _env_refs(node) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(_env_refs(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_env_refs(v) for v in node)) if node else set()
    return set()


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_names_every_service_and_gives_them_what_the_config_reads(compose):
    services = compose["services"]
    assert {"postgres", "redis", "init", "code", "webserver", "daemon", "worker-cpu", "worker-gpu"} <= set(
        services
    )
    needed = _env_refs(yaml.safe_load((DEPLOY / "dagster.yaml").read_text())) | _env_refs(
        yaml.safe_load((DEPLOY / "celery.yaml").read_text())
    )
    assert needed == {
        "OMNIVA_PG_HOST",
        "OMNIVA_PG_PORT",
        "OMNIVA_PG_USER",
        "OMNIVA_PG_PASSWORD",
        "OMNIVA_PG_DB",
        "OMNIVA_DAGSTER_STORAGE",
        "OMNIVA_DAGSTER_COMPUTE_LOGS",
        "OMNIVA_CELERY_BROKER",
        "OMNIVA_CELERY_BACKEND",
    }
    for name, svc in services.items():
        if svc.get("image") == "omniva:latest":
            assert needed <= set(svc["environment"]), name
            assert svc["environment"]["OMNIVA_EXECUTOR"] == "celery"
            assert "omniva-data:/data" in svc["volumes"], name
    # The workers listen on the queues the executor routes to.
    queues = {
        name: svc["command"][svc["command"].index("-q") + 1]
        for name, svc in services.items()
        if "-q" in svc.get("command", [])
    }
    assert queues == {"worker-cpu": production.DEFAULT_QUEUE, "worker-gpu": production.GPU_QUEUE}
    gpu = services["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"] and gpu["count"] == 1


def test_compose_runs_the_same_programs_as_the_tests(compose):
    services = compose["services"]
    commands = {name: svc.get("command", []) for name, svc in services.items()}
    assert commands["daemon"][:2] == ["dagster-daemon", "run"]
    assert commands["webserver"][0] == "dagster-webserver"
    for worker in ("worker-cpu", "worker-gpu"):
        assert commands[worker][:5] == ["dagster-celery", "worker", "start", "-A", "dagster_celery.app"]
        assert commands[worker][commands[worker].index("-y") + 1] == "/app/deploy/celery.yaml"
    assert commands["init"] == ["python", "-m", "omniva_assets.deployment", "pools"]
    # Every file a command names is in the image (deploy/ is copied to /app/deploy).
    for cmd in commands.values():
        for arg in cmd:
            if arg.startswith("/app/"):
                assert (REPO / arg.removeprefix("/app/")).exists(), arg
    # gRPC code locations: the workspace's servers are the compose services serving them.
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    for entry in workspace:
        server = entry["grpc_server"]
        cmd = commands[server["host"]]
        assert cmd[cmd.index("-p") + 1] == str(server["port"])
        assert cmd[cmd.index("--location-name") + 1] == server["location_name"]
        module = cmd[cmd.index("-m") + 1]
        assert (REPO / (module.replace(".", "/") + ".py")).exists() or (
            REPO / module.replace(".", "/")
        ).is_dir()
    # PostgreSQL and Redis: the same major versions the tests start here.
    pg_major = re.match(r"postgres:(\d+)", services["postgres"]["image"]).group(1)
    redis_major = re.match(r"redis:(\d+)", services["redis"]["image"]).group(1)
    pg_bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if pg_bins:
        assert pg_major in {p.parts[-3] for p in pg_bins}
    if shutil.which("redis-server"):
        version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
        assert re.search(r"v=(\d+)\.", version).group(1) == redis_major


def test_dockerfile_copies_what_exists_and_kubernetes_matches_compose(compose):
    docker = (DEPLOY / "Dockerfile").read_text()
    for line in docker.splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (REPO / src).exists(), src
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
    assert "deploy/entrypoint.sh" in docker
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    k8s_limits = values["additionalInstanceConfig"]["concurrency"]["runs"]["tag_concurrency_limits"]
    ours = production.instance_config(gpus=1, environ={})["concurrency"]["runs"]["tag_concurrency_limits"]
    assert k8s_limits == ours
    assert values["dagster-user-deployments"]["deployments"][0]["dagsterApiGrpcArgs"] == [
        "-m",
        "omniva_assets.definitions",
    ]
    manifests = list(yaml.safe_load_all((DEPLOY / "k8s" / "celery-workers.yaml").read_text()))
    workers = {
        m["metadata"]["name"]: m["spec"]["template"]["spec"]["containers"][0]
        for m in manifests
        if m["kind"] == "Deployment" and m["metadata"]["name"].startswith("omniva-worker")
    }
    for name, svc in (("omniva-worker-cpu", "worker-cpu"), ("omniva-worker-gpu", "worker-gpu")):
        assert workers[name]["args"] == compose["services"][svc]["command"]
    assert workers["omniva-worker-gpu"]["resources"]["limits"] == {"nvidia.com/gpu": 1}
