"""Pace requests from Cloudflare's rate-limit headers so that a run never trips the block.

Cloudflare allows 1,200 requests per 5 minutes per user; past it, every call is refused for
5 minutes. Its answers say what is left: ``Ratelimit: "default";r=<remaining>;t=<seconds to
reset>`` and ``Ratelimit-Policy: "default";q=<quota>;w=<window>`` (developers.cloudflare.com,
fundamentals/api/reference/limits). Before each request (retries included) the pacer waits,
when the remaining budget would not cover the requests in flight, until the window resets.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

from ametrika_gitops.diagnostics import Progress

_PARAM = re.compile(r";\s*([a-z]+)\s*=\s*([0-9]+)")
SLACK = 0.25  # seconds past the announced reset, for clocks and rounding


def parse(header: str | None) -> dict[str, int]:
    """``"default";r=50;t=30`` → {"r": 50, "t": 30} (the first policy named)."""
    if not header:
        return {}
    first = header.split(",")[0]
    return {k: int(v) for k, v in _PARAM.findall(first)}


class Pacer:
    def __init__(
        self,
        reserve: int = 4,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``reserve``: requests kept back for those in flight (the number of workers)."""
        self.reserve = max(1, reserve)
        self.progress = progress
        self.clock, self.sleep = clock, sleep
        self.remaining: int | None = None  # None: unknown (first request, or a new window)
        self.reset_at = 0.0
        self.inflight = 0
        self.waited = 0.0
        self._lock = threading.Lock()

    def before(self) -> None:
        """Called before each request is sent."""
        while True:
            with self._lock:
                now = self.clock()
                if self.remaining is not None and now >= self.reset_at:
                    self.remaining = None  # the window has reset
                if self.remaining is None or self.remaining > self.reserve:
                    if self.remaining is not None:
                        self.remaining -= 1
                    self.inflight += 1
                    return
                wait = self.reset_at - now + SLACK
                left = self.remaining
            if self.progress is not None:
                self.progress(
                    f"Cloudflare rate limit: {max(left, 0)} requests left in this window; "
                    f"waiting {wait:.0f} s for it to reset"
                )
            self.sleep(wait)
            with self._lock:
                self.waited += wait

    def after(self, headers: Mapping[str, str]) -> None:
        """Called with each answer's headers."""
        limit = parse(headers.get("ratelimit"))
        with self._lock:
            self.inflight = max(0, self.inflight - 1)
            if "r" in limit and "t" in limit:
                # the answer counts this request; those still in flight will count too
                self.remaining = limit["r"] - self.inflight
                self.reset_at = self.clock() + limit["t"]

    def failed(self) -> None:
        """A request got no answer (connection error)."""
        with self._lock:
            self.inflight = max(0, self.inflight - 1)
