"""The emulator's API vocabulary: errors, envelopes, injected faults, the request log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Fault:
    """Make matching requests fail: ``status`` (an HTTP error), ``drop`` (close the connection
    without an answer) or ``delay`` (seconds before answering); with ``after_commit`` the
    request takes effect first, as when a server commits and the answer is lost."""

    method: str | None = None
    path_contains: str | None = None
    status: int | None = None
    drop: bool = False
    delay: float = 0.0
    after_commit: bool = False
    truncate: bool = False  # answer 200 with the JSON cut in half (Content-Length matches)
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (
            self.times > 0
            and (self.method in (None, method))
            and (self.path_contains is None or self.path_contains in path)
        )


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: str
    status: int


def envelope(
    result: Any, info: dict[str, int] | None, errors: list[tuple[int, str]]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "success": not errors,
        "errors": [{"code": c, "message": m} for c, m in errors],
        "messages": [],
        "result": result,
    }
    if info is not None:
        out["result_info"] = info
    return out
