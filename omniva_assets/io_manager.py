"""The record IO manager: where every asset's record is kept, how a child reads its parents,
and where a record's bookkeeping (warehouse rows, Stardust packet, lineage) is written.

An asset body computes and returns ``common.recorded(value, lineage, tables, metadata,
data_version)``: a ``dg.Output`` whose value is a :class:`~omniva_assets.common.Record` (the
value with its :class:`~omniva_assets.common.Lineage` and warehouse tables). On output this IO
manager does the bookkeeping (``common.record``: the parents from Dagster's event log, the
contract, the rows, the packet, ``context.add_output_metadata``) and stores the value alone,
pickled at ``<storage_dir>/<asset>/<partition>`` -- the layout of Dagster's default filesystem
IO manager, so a home made before this module reads the same.

On input it loads a parent partition the same way, and resolves the one edge Dagster cannot
map: a clip-level asset's video-level inputs (declared with ``RECORDED_IN_METADATA``, which maps
no partitions; see ``omniva_assets.partitions``) come from the clip's video, ``RANK|VIDEO_KEY``
-> ``VIDEO_KEY``.

Wire it as the assets' ``io_manager`` resource: ``"io_manager": record_io_manager()``.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

import dagster as dg

from omniva_assets.common import LEVEL, Record, settle
from omniva_assets.partitions import split_clip_key

if TYPE_CHECKING:
    from upath import UPath

PICKLE_PROTOCOL = 4  # Dagster's filesystem IO manager's


def video_of_clip(context: dg.InputContext) -> str | None:
    """The video partition a clip-level step reads its video-level input from; None for any
    other input (same partitioning, an unpartitioned parent...)."""
    if LEVEL.get(context.asset_key.to_user_string()) != "video" or not context.has_partition_key:
        return None
    try:
        return split_clip_key(str(context.partition_key))[0]
    except ValueError:  # not a clip partition
        return None


class RecordStorage(dg.UPathIOManager):
    """The IO manager itself (``RecordIOManager`` builds it with the instance's storage dir).

    Values are kept as Dagster's filesystem IO manager keeps them (``dg.FilesystemIOManager``):
    pickled at ``<base_dir>/<asset>/<partition>``, no extension, a posts partition at
    ``<creator>/<day>``, the same escaping of a leading ``/`` and of ``..`` segments.
    """

    extension: str = ""

    def __init__(self, base_dir: str) -> None:
        from upath import UPath

        self.base = UPath(base_dir)
        super().__init__(base_path=self.base)

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        if partition.startswith("/"):
            partition = "%2F" + partition[1:]
        return base_path / "/".join("%2E%2E" if p == ".." else p for p in partition.split("/"))

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        with path.open("wb") as fh:
            pickle.dump(obj, fh, PICKLE_PROTOCOL)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> Any:
        with path.open("rb") as fh:
            return pickle.load(fh)

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if not isinstance(obj, Record):
            super().handle_output(context, obj)
            return
        step = dg.AssetExecutionContext.get()  # the step whose output this is
        value, meta = settle(step, step.resources.store, obj)
        context.add_output_metadata(meta)
        if value is not None:  # None: bookkeeping only (creators, clip_explanations, horizon_progress)
            super().handle_output(context, value)

    def load_input(self, context: dg.InputContext) -> Any:
        video_key = video_of_clip(context)
        if video_key is None:
            return super().load_input(context)
        asset = context.asset_key.to_user_string()
        path = self.make_safe_partition_path(self.base.joinpath(*context.asset_key.path), video_key)
        context.log.debug(self.get_loading_input_partition_log_message(path, video_key))
        try:
            return self.load_from_path(context, path)
        except FileNotFoundError:
            raise dg.Failure(
                f"{asset} [{video_key}] has not been materialized (no {path}); run the video's "
                "video_job first (`omniva run`, or materialize it in the UI)"
            ) from None


class RecordIOManager(dg.ConfigurableIOManagerFactory[RecordStorage]):
    """Every asset's record per partition (pickled under ``base_dir``, by default the Dagster
    instance's storage directory), its bookkeeping on output, clip -> video on input."""

    base_dir: str | None = None

    def create_io_manager(self, context: dg.InitResourceContext) -> RecordStorage:
        base_dir = self.base_dir
        if base_dir is None:
            if context.instance is None:
                raise dg.Failure("the record IO manager needs a Dagster instance (its storage directory)")
            base_dir = context.instance.storage_directory()
        return RecordStorage(base_dir=base_dir)


def record_io_manager(base_dir: str | None = None) -> RecordIOManager:
    """The assets' ``io_manager`` resource."""
    return RecordIOManager(base_dir=base_dir)
