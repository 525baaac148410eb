"""The ``store`` resource: the working folder (media store, warehouse, registries, ledgers)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import dagster as dg

from cognitive_sensors.stardust import now_iso
from omniva.records import Creator, Post, stable_id
from omniva.redact import redact_text, redact_value
from omniva.settings import Layout, omniva_home
from omniva_resources import creators as creator_registry
from omniva_resources import media
from omniva_resources.warehouse import Warehouse
from omniva_resources.warehouse import schemas as warehouse_schemas


class OmnivaStore(dg.ConfigurableResource):
    """The working folder: media store, warehouse, creator registry, upload ledger."""

    home: str = ""  # empty: $OMNIVA_HOME, else ./.omniva
    cookies_dir: str = ""  # creators' cookies files; empty: <home>/secrets/cookies

    @property
    def layout(self) -> Layout:
        home = Path(self.home).resolve() if self.home else omniva_home()
        return Layout(home, Path(self.cookies_dir).expanduser() if self.cookies_dir else None)

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.layout.warehouse, self.layout.duckdb_path)

    def warm_up(self) -> None:
        """What every materialization's bookkeeping needs once per process, read now rather than
        in whichever step comes first: the warehouse's table schemas and ffmpeg's build (lineage)."""
        warehouse_schemas()
        media.ffmpeg_build()

    def creator(self, name: str) -> Creator:
        return creator_registry.get(self.layout, name)

    def record(self, table: str, partition_key: str, rows: list[dict]) -> None:
        self.warehouse.write_partition(table, partition_key, rows)

    def record_stardust(self, row: dict) -> None:
        self.warehouse.write_partition(
            "stardust_metadata", f"{row['asset_key']}/{row['partition_key']}", [row]
        )

    def log(self, source: str, level: str, message: str, **metadata) -> None:
        """A row in the spec's ``logs`` table; every event is a row of its own.

        An audit trail appends: two keys doing the same thing, or one key doing it twice, are
        two rows. Only an event a Dagster run reports again (a retried step failing the same
        way in the same run) is the same row, so its id is everything it says, run included.
        """
        # A second guard: whatever reaches the audit trail loses URL credentials and secret
        # query values, even where the caller forgot to redact.
        message = redact_text(message)
        metadata = cast(dict, redact_value(metadata))
        if metadata.get("run_id"):
            said = json.dumps(metadata, sort_keys=True, default=str)
            log_id = stable_id("log", source, level, message, said)
        else:
            log_id = str(uuid.uuid4())
        self.warehouse.write_partition(
            "logs",
            log_id,
            [
                {
                    "log_id": log_id,
                    "source": source,
                    "level": level,
                    "message": message,
                    "metadata": metadata,
                    "created_at": now_iso(),
                }
            ],
        )

    def quarantined(self) -> set[str]:
        """Partitions Eclipse quarantined and no operator released."""
        return {r["partition"] for r in self.warehouse.query_file("quarantined_partitions")}

    def quarantine(
        self,
        asset: str,
        partition: str,
        failure_class: str,
        reason: str,
        failures: int,
        run_id: str | None = None,
    ) -> None:
        self.warehouse.write_partition(
            "quarantine",
            f"{asset}/{partition}",
            [
                {
                    "asset_key": asset,
                    "partition_key": partition,
                    "failure_class": failure_class,
                    "reason": reason,
                    "failures": failures,
                    "run_id": run_id,
                    "quarantined_at": now_iso(),
                }
            ],
        )

    def release(self, partition: str, by: str = "operator") -> list[str]:
        """Release every quarantine entry of ``partition``; returns the assets released."""
        released = []
        for r in self.warehouse.query_file("open_quarantine_of_partition", [partition]):
            row = {**r, "released_at": now_iso(), "released_by": by}
            self.warehouse.write_partition("quarantine", f"{r['asset_key']}/{partition}", [row])
            released.append(r["asset_key"])
        return released

    def record_decisions(
        self, source: str, stage: str, decisions: Iterable, tags: dict | None = None
    ) -> None:
        """Zenith's decisions (request / skip / defer, and why) into ``zenith_decisions``.

        A decision is who decided (source, tags such as the API job), at which stage, on which
        partition, what and why: the clip and upload gates deciding on the same partition are
        two decisions, and both stay. A sensor repeating the same decision every tick is one.
        """
        tags = tags or {}
        said = json.dumps(tags, sort_keys=True, default=str)
        rows = [
            {
                "decision_id": stable_id("zenith", source, stage, d.partition_key, d.action, d.reason, said),
                "source": source,
                "stage": stage,
                "partition_key": str(d.partition_key),
                "action": d.action,
                "reason": d.reason,
                "tags": tags,
                "decided_at": now_iso(),
            }
            for d in decisions
        ]
        if rows:
            key = stable_id(source, stage, *sorted(r["decision_id"] for r in rows))
            self.warehouse.write_partition("zenith_decisions", key, rows)

    # ------------------------------------------------- review before publish (#28)
    def _append_person_row(
        self, table: str, id_field: str, clip_id: str, partition_key: str, author: str, **fields: object
    ) -> dict:
        """One row of a person's decision on a clip, appended to ``table`` (latest row wins)."""
        row: dict = {
            id_field: str(uuid.uuid4()),
            "clip_id": clip_id,
            "partition_key": partition_key,
            **fields,
            "author": author,
            "created_at": now_iso(),
        }
        self.warehouse.write_partition(table, str(row[id_field]), [row])
        return row

    def record_review(
        self, clip_id: str, partition_key: str, decision: str, reason: str | None, author: str
    ) -> dict:
        """A person's approve/reject of a clip (appended; the latest review wins)."""
        return self._append_person_row(
            "clip_reviews", "review_id", clip_id, partition_key, author, decision=decision, reason=reason
        )

    def latest_reviews(self, partition_keys: Iterable[str]) -> dict[str, dict]:
        """clip partition -> its latest review (decision, reason, author, created_at)."""
        keys = list(partition_keys)
        if not keys:
            return {}
        return {r["partition_key"]: r for r in self.warehouse.query_file("latest_reviews", [keys])}

    def rejected(self) -> dict[str, dict]:
        """clip partition -> its rejecting review, for every clip whose latest review rejects it."""
        return {r["partition_key"]: r for r in self.warehouse.query_file("rejected_clips")}

    def record_copy_edit(
        self, clip_id: str, partition_key: str, title: str, description: str, tags: list[str], author: str
    ) -> dict:
        """A person's title, description and tags for a clip, over Chorus's copy (appended)."""
        return self._append_person_row(
            "clip_copy_edits",
            "edit_id",
            clip_id,
            partition_key,
            author,
            title=title,
            description=description,
            keywords=list(tags),
        )

    def copy_edit(self, partition_key: str) -> dict | None:
        """The latest person's edit of the clip's copy, if any."""
        rows = self.warehouse.query_file("latest_copy_edit", [partition_key])
        return rows[0] if rows else None

    def record_recut(self, clip_id: str, partition_key: str, start: float, end: float, author: str) -> dict:
        """A person's span for a clip (seconds in the source); the ``clips`` asset honours it."""
        return self._append_person_row(
            "clip_recuts", "recut_id", clip_id, partition_key, author, start_time=start, end_time=end
        )

    def recut(self, partition_key: str) -> dict | None:
        """The latest person's span for the clip, if any."""
        rows = self.warehouse.query_file("latest_recut", [partition_key])
        return rows[0] if rows else None

    def find_post(self, video_key: str) -> Post:
        rows = self.warehouse.query_file("latest_post_of_video", [video_key])
        if not rows:
            raise dg.Failure(
                f"video {video_key!r} is not in any listed post. Materialize the creator's posts "
                "partition first (the video sensor registers videos from posts)."
            )
        r = rows[0]
        raw = json.loads(r["raw_metadata"]) if r["raw_metadata"] else {}
        posted = r["posted_at"].strftime("%Y-%m-%dT%H:%M:%SZ") if r["posted_at"] else None
        return Post(r["creator"], r["platform_post_id"], r["url"], r["title"], posted, r["video_key"], raw)
