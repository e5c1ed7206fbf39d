"""Run the real command line many times, each run in a fresh process whose wall time and peak
memory are measured.

A worker process imports the package once, then forks a child per run (a few milliseconds
instead of an interpreter's start-up). The child runs ``ametrika_gitops.cli.main.main`` with
its output in files, under an address-space limit so that a regression fails the test instead
of exhausting the machine; the worker collects its exit status and ``ru_maxrss`` with wait4.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WORKER = r"""
import json, os, resource, sys, time
from ametrika_gitops.cli.main import main

for line in sys.stdin:
    job = json.loads(line)
    out, err = job["out"], job["err"]
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (job["limit"], job["limit"]))
            os.chdir(job["cwd"])
            for fd, name in ((1, out), (2, err)):
                target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(target, fd)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            code = main(job["argv"])
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException as exc:  # what main lets through is a failure of the test
            os.write(2, f"Traceback: {exc!r}".encode())
            code = 99
        os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    print(json.dumps({
        "status": os.waitstatus_to_exitcode(status),
        "seconds": time.monotonic() - start,
        "peak_mb": usage.ru_maxrss / 1024,
    }), flush=True)
"""


@dataclass(frozen=True)
class Run:
    code: int  # negative: killed by that signal
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str


class Runner:
    def __init__(self, scratch: Path, limit_bytes: int = 2 << 30) -> None:
        self.scratch = scratch
        self.limit = limit_bytes
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, cwd: Path, *argv: str) -> Run:
        out, err = self.scratch / "out.txt", self.scratch / "err.txt"
        job = {"cwd": str(cwd), "argv": list(argv), "out": str(out), "err": str(err)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(job | {"limit": self.limit}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return Run(
            answer["status"],
            answer["seconds"],
            answer["peak_mb"],
            out.read_text(encoding="utf-8", errors="replace"),
            err.read_text(encoding="utf-8", errors="replace"),
        )

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
