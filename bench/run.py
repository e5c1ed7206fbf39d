"""Time `validate` and `compile` end to end (the console script, one process) for N accounts.

    python bench/run.py 100 1000 10000

Each figure is the median wall time of 3 runs, pinned to one core with `taskset -c 0` when
it is available.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    run = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.stderr[-2000:]}")
    return elapsed


def main(sizes: list[int]) -> None:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    tool = [*pin, sys.executable, "-m", "ametrika_gitops"]
    print("| accounts | validate (s) | compile (s) | compile per account (ms) |")
    print("|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            generate(n, repo)
            env_repo = repo
            validate = statistics.median(timed([*tool, "validate"], env_repo) for _ in range(3))
            compile_ = statistics.median(
                timed([*tool, "compile", "--out", str(Path(tmp) / f"out{i}")], env_repo)
                for i in range(3)
            )
            print(
                f"| {n:,} | {validate:.2f} | {compile_:.2f} | {1000 * compile_ / n:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    os.environ.pop("CLOUDFLARE_API_TOKEN", None)
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
