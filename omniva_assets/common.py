"""Small helpers every asset uses."""

from contextlib import contextmanager

import dagster as dg

from cognitive_sensors import stardust
from omniva.errors import OmnivaError
from omniva_resources.resources import OmnivaStore

# Transient failures (a source that did not answer, a full disk) are retried with
# backoff; bad media is not (Eclipse: retry what can heal, mark what cannot).
RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@contextmanager
def user_errors(context: dg.AssetExecutionContext, store: OmnivaStore):
    """Turn a typed Omniva error into a Dagster Failure that names the input and says why.

    The failure is also written to the warehouse ``logs`` table, so analysts see why a
    partition has no output. Retries are allowed only for errors that can heal.
    """
    try:
        yield
    except OmnivaError as exc:
        partition = context.partition_key if context.has_partition_key else None
        asset = context.asset_key.to_user_string()
        store.log(
            asset,
            "ERROR",
            str(exc),
            partition=partition,
            error=type(exc).__name__,
            reason=getattr(exc, "reason", None),
            retryable=exc.retryable,
            run_id=stardust.run_id_of(context),
        )
        # An unavailable source says why (private, geo-blocked, ...): the partition shows it.
        reason = {"reason": exc.reason} if isinstance(getattr(exc, "reason", None), str) else {}
        raise dg.Failure(
            description=f"{asset} [{partition}]: {exc}",
            metadata={"error": type(exc).__name__, "partition": partition or "", **reason},
            allow_retries=exc.retryable,
        ) from exc
