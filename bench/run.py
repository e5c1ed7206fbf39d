"""Time `validate` and `compile` end to end (the console script, one process) for N accounts.

    python bench/run.py 100 1000 10000

Each figure is the median of 3 runs, pinned to one core with `taskset -c 0` when it is
available: wall time, and the process's CPU time (user + system), which moves less than wall
time when other work shares the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """(wall s, CPU s) of one run."""
    cpu, start = cpu_of_children(), time.perf_counter()
    run = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.stderr[-2000:]}")
    return elapsed, cpu_of_children() - cpu


def median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def main(sizes: list[int]) -> None:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    tool = [*pin, sys.executable, "-m", "ametrika_gitops"]
    print(
        "| accounts | validate (s) | validate: CPU (s) | compile (s) | compile: CPU (s) "
        "| compile per account (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            generate(n, repo)
            env_repo = repo
            validate, validate_cpu = median(
                [timed([*tool, "validate"], env_repo) for _ in range(3)]
            )
            compile_, compile_cpu = median(
                [
                    timed([*tool, "compile", "--out", str(Path(tmp) / f"out{i}")], env_repo)
                    for i in range(3)
                ]
            )
            print(
                f"| {n:,} | {validate:.2f} | {validate_cpu:.2f} | {compile_:.2f} | "
                f"{compile_cpu:.2f} | {1000 * compile_ / n:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    os.environ.pop("CLOUDFLARE_API_TOKEN", None)
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
