"""Cloudflare's global rate limit, as the emulator applies it: ``quota`` requests per
``window`` seconds; the request past it, and every request for the next ``window`` seconds,
get 429 (code 10100) with ``Retry-After``. Every answer carries ``Ratelimit`` and
``Ratelimit-Policy`` (developers.cloudflare.com, fundamentals/api/reference/limits)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self, quota: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quota, self.window, self.clock = quota, window, clock
        self.started: float | None = None  # the window begins with its first request
        self.used = 0
        self.blocked_until = 0.0
        self.refused = 0

    def take(self) -> tuple[bool, dict[str, str]]:
        """Count one request: (allowed, the headers of its answer)."""
        now = self.clock()
        if now < self.blocked_until:
            self.refused += 1
            wait = math.ceil(self.blocked_until - now)
            return False, self._headers(0, wait) | {"Retry-After": str(wait)}
        if self.started is None or now >= self.started + self.window:
            self.started, self.used = now, 0
        if self.used >= self.quota:
            self.blocked_until = now + self.window
            self.started, self.used = None, 0
            self.refused += 1
            wait = math.ceil(self.window)
            return False, self._headers(0, wait) | {"Retry-After": str(wait)}
        self.used += 1
        reset = math.ceil(self.started + self.window - now)
        return True, self._headers(self.quota - self.used, reset)

    def _headers(self, remaining: int, reset: int) -> dict[str, str]:
        return {
            "Ratelimit": f'"default";r={remaining};t={reset}',
            "Ratelimit-Policy": f'"default";q={self.quota};w={math.ceil(self.window)}',
        }
