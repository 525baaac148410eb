"""Eclipse: classify failures and decide what happens next. Pure functions.

- transient (network, 429, 5xx, a full disk): retry with backoff; quarantine after N failures;
- quota (YouTube quotaExceeded / uploadLimitExceeded): defer to the next quota window, never
  quarantine; ``uploadLimitExceeded`` is the channel's own daily upload limit, so the reason
  says the channel is paused until its next day (other channels keep publishing);
- bad input (corrupt media, no audio, no speech, dead link, private video): quarantine at once,
  retrying cannot help;
- conflict (a blocking Paradox check failed: duplicate source, same speech, overlapping clips,
  double booking): quarantine at once until an operator looks;
- bug (anything else): retry up to N times, then quarantine and escalate to an operator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TRANSIENT, QUOTA, BAD_INPUT, CONFLICT, BUG = "transient", "quota", "bad_input", "conflict", "bug"

_BAD_INPUT_ERRORS = {
    "CorruptMediaError",
    "NoAudioError",
    "NoSpeechError",
    "DeadLinkError",
    "SourceError",
    # A source whose address is refused (loopback, private, metadata): bad input, not a bug.
    "UnsafeSourceError",
    # A post that exists but cannot be had as things stand: retrying unchanged cannot help;
    # cookies, a proxy or the creator can, and then an operator releases the partition.
    "UnavailableError",
    "PrivateVideoError",
    "RemovedVideoError",
    "GeoBlockedError",
    "AgeGatedError",
    "MembersOnlyError",
    "LoginRequiredError",
    "MediaError",
    "ConfigError",
    "MissingCredentialsError",
}
_TRANSIENT_ERRORS = {
    "TransientSourceError",
    "RateLimitedError",
    "StorageFullError",
    "ConnectionError",
    "TimeoutError",
    "WorkerLostError",
}  # a Celery worker died under the step
_QUOTA_ERRORS = {"QuotaExceededError"}


@dataclass(frozen=True, slots=True)
class Verdict:
    failure_class: str
    action: str  # retry | defer | quarantine
    reason: str
    retry_after_s: float | None = None
    defer_until: str | None = None  # ISO 8601 UTC


def classify(error_type: str | None, message: str) -> str:
    if error_type in _QUOTA_ERRORS or re.search(
        r"quotaExceeded|uploadLimitExceeded|quota exhausted", message
    ):
        return QUOTA
    if error_type == "DagsterAssetCheckFailedError" or "blocking asset check failed" in message:
        return CONFLICT
    if error_type in _BAD_INPUT_ERRORS:
        return BAD_INPUT
    if error_type in _TRANSIENT_ERRORS or re.search(
        r"HTTP Error (429|5\d\d)|timed out|Connection (refused|reset)|Temporary failure|No space left",
        message,
    ):
        return TRANSIENT
    return BUG


def next_quota_window(now: datetime) -> datetime:
    """YouTube's quota day resets at midnight Pacific time."""
    pacific = now.astimezone(ZoneInfo("America/Los_Angeles"))
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(ZoneInfo("UTC"))


def decide(
    failure_class: str,
    failures: int,
    now: datetime,
    max_failures: int = 3,
    base_delay_s: float = 30.0,
    message: str = "",
) -> Verdict:
    """What to do after the ``failures``-th failure of one partition (``message``: the
    failure's text, which says which quota limit was hit)."""
    if failure_class == QUOTA:
        until = next_quota_window(now)
        if "uploadLimitExceeded" in message:
            reason = (
                "channel upload limit reached (uploadLimitExceeded); the channel is paused "
                "until its next day, other channels keep publishing"
            )
        else:
            reason = "quota exhausted; deferred to the next quota window"
        return Verdict(QUOTA, "defer", reason, defer_until=until.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if failure_class == BAD_INPUT:
        return Verdict(BAD_INPUT, "quarantine", "bad input: retrying cannot fix it")
    if failure_class == CONFLICT:
        return Verdict(CONFLICT, "quarantine", "blocked by a Paradox check; an operator decides")
    if failures >= max_failures:
        return Verdict(failure_class, "quarantine", f"failed {failures} times (limit {max_failures})")
    delay = base_delay_s * 2 ** (failures - 1)
    return Verdict(
        failure_class,
        "retry",
        f"{failure_class} failure {failures}/{max_failures}; retry later",
        retry_after_s=delay,
    )


def crisis(outcomes: list[bool], threshold: float = 0.5, min_runs: int = 6) -> str | None:
    """Crisis mode: a reason to stop launching work for a stage, or None.

    ``outcomes`` are the stage's most recent runs (True = failed; bad-input and conflict
    failures excluded: they say nothing about the stage's health).
    """
    if len(outcomes) < min_runs:
        return None
    rate = sum(outcomes) / len(outcomes)
    if rate > threshold:
        return f"crisis mode: {rate:.0%} of the last {len(outcomes)} runs failed (threshold {threshold:.0%})"
    return None
