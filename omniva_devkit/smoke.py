"""A tiny code location to check a production deployment end to end (docs/deployment.md).

``smoke_job`` has three steps shaped like Omniva's: a CPU step, a step in the ``asr`` pool
(GPU when the run's lane is GPU) and a step tagged ``omniva/lane=gpu`` in the ``render`` pool.
Each reports where it ran (host, process, Celery worker); the run tag ``omniva_devkit/smoke-hold-seconds`` keeps each step busy
so that concurrency limits become visible in the event log. It runs on the executor
``OMNIVA_EXECUTOR`` names, like the Omniva jobs:

    dagster job launch -w deploy/workspace.yaml -l smoke -j smoke_job --tags '{"omniva/lane": "gpu"}'
"""

import os
import socket
import time

import dagster as dg

from omniva_assets.deployment import executor_from_env

HOLD_TAG = "omniva_devkit/smoke-hold-seconds"


def _where(context: dg.OpExecutionContext) -> dg.Output:
    started = time.time()
    time.sleep(float(context.run.tags.get(HOLD_TAG, "0")))
    where = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "worker": os.environ.get("OMNIVA_WORKER_NAME", ""),
        "started": started,
        "ended": time.time(),
    }
    context.log.info(f"{context.op.name} ran on {where}")
    return dg.Output(where, metadata={k: dg.MetadataValue.text(str(v)) for k, v in where.items()})


@dg.op(tags={"omniva/lane": "cpu"})
def cpu_step(context: dg.OpExecutionContext) -> dg.Output[dict]:
    return _where(context)


@dg.op(pool="asr")
def asr_step(context: dg.OpExecutionContext, upstream: dict) -> dg.Output[dict]:
    return _where(context)


@dg.op(tags={"omniva/lane": "gpu"}, pool="render")
def render_step(context: dg.OpExecutionContext, upstream: dict) -> dg.Output[dict]:
    return _where(context)


@dg.job
def smoke_job():
    first = cpu_step()
    render_step(asr_step(first))


@dg.definitions
def defs() -> dg.Definitions:
    # Called when the code location loads, so OMNIVA_EXECUTOR is read then, not at import.
    return dg.Definitions(jobs=[smoke_job], executor=executor_from_env())
