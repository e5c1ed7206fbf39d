"""Progress over many zones: a count and an estimate of the time left (on stderr)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ametrika_gitops.diagnostics import Progress


class Countdown:
    """``zone 3/20 example.com: 5 records read (about 12 s left)``, thread-safe."""

    def __init__(
        self, total: int, progress: Progress, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total, self.done = total, 0
        self.progress = progress
        self.clock = clock
        self.start = clock()
        self._lock = threading.Lock()

    def tick(self, zone: str, message: str) -> None:
        with self._lock:
            self.done += 1
            left = self.total - self.done
            elapsed = self.clock() - self.start
            eta = ""
            if left and self.done:
                eta = f" (about {max(1, round(elapsed / self.done * left))} s left)"
            self.progress(f"zone {self.done}/{self.total} {zone}: {message}{eta}")
