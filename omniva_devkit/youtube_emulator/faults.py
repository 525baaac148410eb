"""Test hooks on the upload path: injected failures, a held-back answer, a byte count."""

from __future__ import annotations

import threading

from omniva_devkit.youtube_emulator.store import Store

#: ``fail_next(DROP_CONNECTION)`` closes the connection instead of answering.
DROP_CONNECTION = 0


class Faults:
    """What the next data-chunk PUTs of a resumable upload run into."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._faults: list[int] = []  # statuses for the next data-chunk PUTs
        self._skip = 0
        self._hold_at: int | None = None
        self.held = threading.Event()  # set while a chunk answer is being held back
        self._release = threading.Event()
        self.bytes_received = 0  # media bytes received in chunk PUTs (retries and resends included)

    def fail_next(self, status: int, count: int = 1, *, skip: int = 0) -> None:
        """Make the next ``count`` data-chunk PUTs answer ``status`` without storing the chunk.

        ``skip`` lets that many data-chunk PUTs succeed first (to hit a middle
        chunk). ``status=0`` drops the connection after reading the request
        instead of answering. Status-query PUTs (``bytes */N``) are never failed.
        """
        with self._store.lock:
            self._skip = skip
            self._faults = [status] * count

    def hold_when_received(self, n_bytes: int | None) -> None:
        """Hold back the answer to the data chunk that brings a session to ``n_bytes`` or more.

        The chunk is stored (the server has confirmed it) but its 308 is not sent until
        ``release()`` (or 60 s); ``held`` is set meanwhile, so a test can kill the client
        at exactly that point. ``None`` switches it off.
        """
        with self._store.lock:
            self._hold_at = n_bytes
            self.held.clear()
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def received(self, n_bytes: int) -> None:
        with self._store.lock:
            self.bytes_received += n_bytes

    def take(self) -> int | None:
        """The status the data chunk now arriving must fail with, if any."""
        with self._store.lock:
            if not self._faults:
                return None
            if self._skip > 0:
                self._skip -= 1
                return None
            return self._faults.pop(0)

    def maybe_hold(self, sid: str) -> None:
        store = self._store
        with store.lock:
            if self._hold_at is None or sid not in store.sessions:
                return
            if store.part_path(sid).stat().st_size < self._hold_at:
                return
            self._hold_at = None
        self.held.set()
        self._release.wait(timeout=60)
