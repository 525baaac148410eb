"""The embedded instance's run launcher (``dagster.yaml``: ``run_launcher``): Dagster's default
launcher, except that runs of Omniva's own code location start as forks of a warm process
(``run_zygote``) instead of fresh interpreters, which cuts the start of every daemon-launched
run from about 1.3-2 s to a few tens of milliseconds (#20, ``bench/daemon_path.py``).

A run goes the default way (the code location's gRPC server) when it is not Omniva's code
location in this interpreter, when ``OMNIVA_WARM_RUNS=off``, or when the warm starter cannot be
reached (the run's event log says why). A warm run's process is named in its tags
(``omniva/run_process``: pid and start time), so ``terminate`` (the UI's button, from any
process) interrupts exactly that process, as Dagster's own cancellation does.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import DefaultRunLauncher, serialize_value

from omniva.settings import warm_runs
from omniva_app import run_zygote
from omniva_resources.dagster_internals import ConfigurableClassData, LaunchRunContext, ModuleCodePointer

PROCESS_TAG = "omniva/run_process"


class WarmRunLauncher(DefaultRunLauncher):
    """``DefaultRunLauncher`` with Omniva's runs forked from a warm process."""

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        super().__init__(inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> WarmRunLauncher:
        return cls(inst_data=inst_data)

    def _warm(self, context: LaunchRunContext) -> bool:
        origin = context.dagster_run.job_code_origin
        if origin is None or not warm_runs():  # OMNIVA_WARM_RUNS, read at each launch
            return False
        pointer = origin.repository_origin.code_pointer
        return (
            isinstance(pointer, ModuleCodePointer)
            and pointer.module == run_zygote.PRELOAD_MODULE
            and os.path.realpath(origin.executable_path or "") == os.path.realpath(sys.executable)
        )

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if not self._warm(context):
            super().launch_run(context)
            return
        home = Path(self._instance.root_directory)
        try:
            pid, started = run_zygote.start_run(home, run.run_id, serialize_value(self._instance.get_ref()))
        except run_zygote.ZygoteError as exc:
            self._instance.report_engine_event(
                f"Warm run start unavailable ({exc}); starting the run through its code location.",
                run,
                cls=self.__class__,
            )
            super().launch_run(context)
            return
        self._instance.add_run_tags(run.run_id, {PROCESS_TAG: f"{pid}:{started}"})
        self._run_ids.add(run.run_id)

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or run.is_finished or PROCESS_TAG not in run.tags:
            return super().terminate(run_id)
        pid_text, _, started = run.tags[PROCESS_TAG].partition(":")
        self._instance.report_run_canceling(run)
        pid = int(pid_text)
        if not started or run_zygote.process_start_time(pid) != started:
            self._instance.report_engine_event(
                f"The run's process (pid {pid}) is no longer running.", run, cls=self.__class__
            )
            return False
        os.kill(pid, signal.SIGINT)  # Dagster's interrupt: the run stops at its next safe point
        return True
