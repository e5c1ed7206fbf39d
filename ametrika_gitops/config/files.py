"""Reading a file that a pull request may have made hostile: only a regular file, and never
more than a limit (a FIFO would block forever, /dev/zero would never end)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Reason = Literal["missing", "not-regular", "too-large", "unreadable"]


@dataclass(frozen=True)
class Refused:
    """Why a file was not read."""

    reason: Reason
    detail: str = ""
    size: int = 0  # for too-large: the size found

    @property
    def message(self) -> str:
        return {
            "missing": "no such file",
            "not-regular": "not a regular file (a folder, device, pipe or socket)",
            "too-large": f"{self.size:,} bytes",
        }.get(self.reason, self.detail or "cannot be read")


def read_limited(file: Path | str, limit: int) -> bytes | Refused:
    """The bytes of a regular file of at most ``limit`` bytes, else why not."""
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait for one
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return Refused("missing")
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        return Refused("unreadable", getattr(exc, "strerror", None) or "invalid file name")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Refused("not-regular")
        if info.st_size > limit:  # do not read what will be refused
            return Refused("too-large", size=info.st_size)
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)  # the file may have grown since fstat
    except OSError as exc:
        return Refused("unreadable", exc.strerror or "read error")
    finally:
        os.close(fd)
    return data if len(data) <= limit else Refused("too-large", size=len(data))
