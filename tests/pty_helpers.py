"""Run the installed console script on a real pseudo-terminal, as a person would."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest


def console_script() -> str:
    found = shutil.which("ametrika-gitops")
    if found is None:
        candidate = Path(sys.executable).parent / "ametrika-gitops"
        found = str(candidate) if candidate.exists() else None
    if found is None:
        pytest.fail("the console script is not installed: run the README's install command")
    return found


def run_on_terminal(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    answers: list[str] | None = None,
    timeout: float = 120,
) -> tuple[int, str]:
    """stdin, stdout and stderr on one terminal; each answer is typed once the program waits
    at a prompt (quiet for 0.3 s after a line ending in ': '). Returns the exit code and
    everything the terminal showed (with the terminal's \\r\\n)."""
    primary, secondary = pty.openpty()
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "NO_COLOR"))
    }
    full_env.update(env or {})
    full_env.setdefault("TERM", "xterm")
    proc = subprocess.Popen(
        [console_script(), *args],
        cwd=cwd,
        env=full_env,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        close_fds=True,
    )
    os.close(secondary)
    pending = list(answers or [])
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.3)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            elif pending and seen.endswith(b": "):
                os.write(primary, pending.pop(0).encode() + b"\n")
            elif proc.poll() is not None:
                break
        try:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            code = -1  # still running (waiting at a prompt?): the screen says where
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(primary)
    return code, seen.decode("utf-8", "replace")
