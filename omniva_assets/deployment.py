"""The production deployment, in code: executor choice, GPU queue routing, instance config and
pools (docs/deployment.md, deploy/). Runs are launched through the queue by ``omniva_app.launch``.

One setting each:

- ``DAGSTER_HOME`` at a folder holding ``deploy/dagster.yaml`` (``python -m omniva_assets.deployment
  instance`` writes it): PostgreSQL storage, the queued run coordinator and its limits.
- ``OMNIVA_EXECUTOR``: how a launched run executes its steps. Unset or ``in_process``: in the
  run's own process, one step after another. An Omniva run is one partition's chain of steps
  (download, ASR, analysis, candidates, vote; or a clip's edit, render, copy, upload), each
  waiting on the one before, so Dagster's default of a process per step bought no parallelism
  and cost each step a fresh interpreter importing Dagster and Omniva (``bench/daemon_path.py``).
  ``multiprocess``: that default, a process per step (``OMNIVA_MAX_CONCURRENT_STEPS`` at once).
  ``celery``: each step is a Celery task on Redis, picked up by ``dagster-celery`` workers;
  steps on the GPU lane go to the ``gpu`` queue. (``omniva run`` executes runs in its own
  process whatever this says; runs launched by the daemon use it.)

GPU routing. dagster-celery sends a step to the queue named by its ``dagster-celery/queue`` tag.
Omniva decides the lane per run (Lattice's ``omniva/lane`` run tag) while queue tags are per op,
so the executor below adds that tag to each step of the plan before dagster-celery submits it:
a step tagged ``omniva/lane=gpu`` always goes to ``gpu``; in a run tagged ``omniva/lane=gpu`` the
steps of the GPU pools (``asr``, ``render``; ``OMNIVA_GPU_POOLS``) go to ``gpu`` too; an explicit
``dagster-celery/queue`` op tag wins; everything else goes to the default queue ``dagster``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import dagster as dg
import yaml

from omniva.settings import REPO_ROOT
from omniva_resources.dagster_internals import ExecutionStep, RetryMode

DEPLOY_DIR = REPO_ROOT / "deploy"
INSTANCE_TEMPLATE = DEPLOY_DIR / "dagster.yaml"
CELERY_WORKER_CONFIG = DEPLOY_DIR / "celery.yaml"  # `dagster-celery worker start -y`

EXECUTOR_ENV = "OMNIVA_EXECUTOR"
QUEUE_TAG = "dagster-celery/queue"  # dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG
LANE_TAG = "omniva/lane"
DEFAULT_QUEUE = "dagster"  # dagster-celery's task_default_queue
GPU_QUEUE = "gpu"
GPU_POOLS = ("asr", "render")

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_BACKEND = "redis://127.0.0.1:6379/1"


# ---------------------------------------------------------------- routing (pure)


def gpu_pools(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    raw = (os.environ if environ is None else environ).get("OMNIVA_GPU_POOLS")
    if raw is None:
        return GPU_POOLS
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def celery_queue(
    step_tags: Mapping[str, str],
    step_pool: str | None,
    run_tags: Mapping[str, str],
    pools: Iterable[str] = GPU_POOLS,
    default: str = DEFAULT_QUEUE,
) -> str:
    """The Celery queue of one step (see the module's docstring)."""
    if step_tags.get(QUEUE_TAG):
        return step_tags[QUEUE_TAG]
    if step_tags.get(LANE_TAG) == "gpu":
        return GPU_QUEUE
    if run_tags.get(LANE_TAG) == "gpu" and step_pool in set(pools):
        return GPU_QUEUE
    return default


def route_plan(execution_plan, run_tags: Mapping[str, str], pools: Iterable[str] = GPU_POOLS):
    """The execution plan with each step's ``dagster-celery/queue`` tag set by ``celery_queue``."""
    pools = tuple(pools)
    step_dict, by_key = {}, {}
    for handle, step in execution_plan.step_dict.items():
        if isinstance(step, ExecutionStep):
            queue = celery_queue(step.tags or {}, step.pool, run_tags, pools)
            step = step._replace(tags={**(step.tags or {}), QUEUE_TAG: queue})
        step_dict[handle] = step
        by_key[step.key] = step
    return execution_plan._replace(step_dict=step_dict, step_dict_by_key=by_key)


# ---------------------------------------------------------------- executors


def _celery_executor_def() -> dg.ExecutorDefinition:
    # optional: dagster-celery is installed for production (requirements.txt), not by pyproject
    from dagster_celery.executor import CELERY_CONFIG, CeleryExecutor

    class OmnivaCeleryExecutor(CeleryExecutor):
        """dagster-celery's executor, with the plan routed to the GPU queue first."""

        def execute(self, plan_context, execution_plan):
            routed = route_plan(execution_plan, plan_context.dagster_run.tags, gpu_pools())
            return super().execute(plan_context, routed)

    @dg.executor(
        name="celery",
        config_schema=CELERY_CONFIG,
        requirements=dg.multiple_process_executor_requirements(),
    )
    def omniva_celery_executor(init_context):
        cfg = init_context.executor_config
        return OmnivaCeleryExecutor(
            broker=cfg.get("broker"),
            backend=cfg.get("backend"),
            config_source=cfg.get("config_source"),
            include=cfg.get("include"),
            retries=RetryMode.from_config(cfg["retries"]),
        )

    return omniva_celery_executor


def _source(environ: Mapping[str, str], var: str, default: str):
    """An env reference when the variable is set (secrets stay out of snapshots), else the default."""
    return {"env": var} if environ.get(var) else default


def celery_config(environ: Mapping[str, str] | None = None) -> dict:
    """The Celery executor's config: broker and backend from the environment, the Celery settings
    of ``deploy/celery.yaml`` (the file the workers start with), so both sides agree."""
    env = os.environ if environ is None else environ
    worker = yaml.safe_load(CELERY_WORKER_CONFIG.read_text())["execution"]["config"]
    return {
        "broker": _source(env, "OMNIVA_CELERY_BROKER", DEFAULT_BROKER),
        "backend": _source(env, "OMNIVA_CELERY_BACKEND", DEFAULT_BACKEND),
        "config_source": dict(worker.get("config_source") or {}),
    }


def executor_from_env(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    """The executor ``OMNIVA_EXECUTOR`` names (unset: in process)."""
    env = os.environ if environ is None else environ
    kind = env.get(EXECUTOR_ENV, "").strip().lower().replace("-", "_")
    if kind in ("", "in_process"):
        return dg.in_process_executor
    if kind == "multiprocess":
        steps = int(env.get("OMNIVA_MAX_CONCURRENT_STEPS", "0") or 0)
        return dg.multiprocess_executor.configured({"max_concurrent": steps} if steps else {})
    if kind == "celery":
        return _celery_executor_def().configured(celery_config(env))
    raise ValueError(f"{EXECUTOR_ENV}={kind!r}: expected in_process (the default), multiprocess or celery")


# ---------------------------------------------------------------- instance config and pools


def instance_config(
    gpus: int | None = None,
    max_concurrent_runs: int | None = None,
    storage_dir: Path | None = None,
    dequeue_interval_seconds: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict:
    """``deploy/dagster.yaml`` with its numbers set (arguments, else OMNIVA_GPUS / OMNIVA_MAX_CONCURRENT_RUNS)."""
    env = os.environ if environ is None else environ
    cfg = yaml.safe_load(INSTANCE_TEMPLATE.read_text())
    gpus = gpus if gpus is not None else int(env.get("OMNIVA_GPUS", "1"))
    max_runs = max_concurrent_runs
    if max_runs is None and env.get("OMNIVA_MAX_CONCURRENT_RUNS"):
        max_runs = int(env["OMNIVA_MAX_CONCURRENT_RUNS"])
    runs = cfg["concurrency"]["runs"]
    if max_runs is not None:
        runs["max_concurrent_runs"] = max_runs
    for limit in runs["tag_concurrency_limits"]:
        if limit["key"] == LANE_TAG and limit.get("value") == "gpu":
            limit["limit"] = max(gpus, 0)
    if dequeue_interval_seconds is not None:
        cfg["run_coordinator"]["config"]["dequeue_interval_seconds"] = dequeue_interval_seconds
    if storage_dir is not None:
        cfg["local_artifact_storage"]["config"]["base_dir"] = str(Path(storage_dir) / "storage")
        cfg["compute_logs"]["config"]["base_dir"] = str(Path(storage_dir) / "logs")
    return cfg


def write_instance_yaml(dagster_home: Path, **kwargs) -> Path:
    dagster_home = Path(dagster_home)
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    header = "# Written by `python -m omniva_assets.deployment instance` from deploy/dagster.yaml.\n"
    target.write_text(header + yaml.safe_dump(instance_config(**kwargs), sort_keys=False))
    return target


def pool_limits(gpus: int | None = None, environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Pool slots: each GPU pool gets one slot per GPU (at least 1, for CPU-only hosts), one upload at a time.

    ``OMNIVA_POOL_LIMITS="asr=2,render=1,youtube_upload=1"`` overrides any of them.
    """
    env = os.environ if environ is None else environ
    gpus = gpus if gpus is not None else int(env.get("OMNIVA_GPUS", "1"))
    limits = {pool: max(gpus, 1) for pool in gpu_pools(env)}
    limits["youtube_upload"] = 1
    for item in (env.get("OMNIVA_POOL_LIMITS") or "").split(","):
        if "=" in item:
            name, _, value = item.partition("=")
            limits[name.strip()] = int(value)
    return limits


def apply_pool_limits(instance: dg.DagsterInstance, limits: Mapping[str, int]) -> dict[str, int]:
    """Write the pool limits into the instance (what ``dagster instance concurrency set`` does)."""
    for pool, limit in limits.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return {pool: instance.event_log_storage.get_concurrency_info(pool).slot_count for pool in limits}


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m omniva_assets.deployment", description=__doc__.split("\n\n")[0]
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("instance", help="write $DAGSTER_HOME/dagster.yaml from deploy/dagster.yaml")
    i.add_argument("--dagster-home", default=os.environ.get("DAGSTER_HOME"))
    i.add_argument("--gpus", type=int)
    i.add_argument("--max-concurrent-runs", type=int)
    pl = sub.add_parser("pools", help="set the pool limits in the instance (asr, render, youtube_upload)")
    pl.add_argument("--gpus", type=int)
    sub.add_parser("check", help="print the executor, the instance's storage, limits and pools")
    args = p.parse_args(argv)

    if args.cmd == "instance":
        if not args.dagster_home:
            p.error("set DAGSTER_HOME or pass --dagster-home")
        path = write_instance_yaml(
            Path(args.dagster_home), gpus=args.gpus, max_concurrent_runs=args.max_concurrent_runs
        )
        print(f"wrote {path}")
    elif args.cmd == "pools":
        with dg.DagsterInstance.get() as instance:
            applied = apply_pool_limits(instance, pool_limits(args.gpus))
        print(" ".join(f"{k}={v}" for k, v in applied.items()))
    else:
        executor = executor_from_env()
        print(f"executor: {executor.name if executor else 'dagster default (multiprocess)'}")
        with dg.DagsterInstance.get() as instance:
            print(f"run storage: {type(instance.run_storage).__name__}")
            print(f"run coordinator: {type(instance.run_coordinator).__name__}")
            queue = instance.get_concurrency_config().run_queue_config
            if queue:
                print(f"max concurrent runs: {queue.max_concurrent_runs}")
                for limit in queue.tag_concurrency_limits:
                    print(f"  limit {limit}")
            for pool in sorted(instance.event_log_storage.get_concurrency_keys()):
                print(f"  pool {pool}: {instance.event_log_storage.get_concurrency_info(pool).slot_count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
