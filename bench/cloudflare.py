"""Requests and wall time to plan and apply N hosted accounts on Z zones (default 1), against
the Cloudflare API emulator: ametrika-gitops (batch endpoint) and octoDNS with octodns-cloudflare
(one request per record), the same records for both, the same emulator settings for both.

    python3 -m venv /tmp/octo && /tmp/octo/bin/pip install octodns==1.22.0 octodns-cloudflare==1.2.0
    python3 bench/cloudflare.py --octodns /tmp/octo/bin/octodns-sync 10 100 1000
    python3 bench/cloudflare.py --octodns /tmp/octo/bin/octodns-sync --latency-ms 50 1000
    python3 bench/cloudflare.py --octodns /tmp/octo/bin/octodns-sync --zones 100 1000
    python3 bench/cloudflare.py --per-zone 2 --rate-limit 1200/300 10 100 1000

With one zone it is `example.com`; with Z > 1, account i goes to zone `zone{i % Z}.example`.
`--per-zone K` gives each size ceil(N / K) zones instead (the shape of real customers: one to a
few accounts per zone; a Free zone holds 200 records). `--rate-limit Q/W` makes the emulator
refuse past Q requests per W seconds for a whole window, as Cloudflare does (1200/300).
`--latency-ms` makes the emulator sleep that long before answering each request, modelling a
network round trip to Cloudflare (0: loopback, nothing added). `--repeat R` gives the median wall
time of R runs, each against a fresh emulator.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ametrika_gitops.config.model import Account, Dmarc, Hosted, Sender
from ametrika_gitops.dns.records import desired_records
from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
ACCOUNT = """\
version: 1
account: {{id: {id}, name: Account {id}, admins: ["@a"], locales: [en]}}
sender:
  mode: hosted
  from_name: Account {id}
  hosted:
    domain: mail-{id}.{zone}
    from_address: news@mail-{id}.{zone}
    verification: "token-{id}"
    dns: {{provider: cloudflare, zone: {zone}}}
"""


def zone_names(zones: int) -> list[str]:
    return ["example.com"] if zones == 1 else [f"zone{i}.example" for i in range(zones)]


def accounts(n: int, zones: int) -> list[tuple[str, str]]:
    """(account id, its zone) for N accounts spread evenly over the zones."""
    names = zone_names(zones)
    return [(f"a{i:05d}", names[i % zones]) for i in range(n)]


def write_repo(dest: Path, n: int, zones: int) -> None:
    for folder in ("templates", "schemas"):
        shutil.copytree(ROOT / folder, dest / folder)
    (dest / "accounts").mkdir()
    for aid, zone in accounts(n, zones):
        (dest / "accounts" / f"{aid}.yaml").write_text(
            ACCOUNT.format(id=aid, zone=zone), encoding="utf-8"
        )


def octodns_zone(n: int, zones: int, zone: str) -> str:
    """The same records as octoDNS YAML (names relative to the zone, sorted, TXT ';' escaped)."""
    entries: dict[str, list[str]] = {}
    for aid, in_zone in accounts(n, zones):
        if in_zone != zone:
            continue
        hosted = Hosted(
            f"mail-{aid}.{zone}",
            f"news@mail-{aid}.{zone}",
            f"token-{aid}",
            "amb",
            False,
            Dmarc(),
            "cloudflare",
            zone,
        )
        acc = Account(
            aid, aid, ("@a",), ("en",), Sender("hosted", "x", "", None, None, hosted), (), {}, ""
        )
        for r in desired_records(acc):
            name = r.name[: -len(zone) - 1]
            if r.type == "CNAME":
                entries[name] = ["  type: CNAME", f"  value: {r.content}."]
            else:
                value = r.content.replace(";", "\\;")
                entries[name] = ["  type: TXT", f"  value: '{value}'"]
    lines = ["---"]
    for name in sorted(entries):
        lines += [f"{name}:", *entries[name]]
    return "\n".join(lines) + "\n"


def octodns_config(zone_dir: Path, api_url: str, zones: list[str]) -> str:
    targets = "".join(f"  {z}.:\n    sources: [config]\n    targets: [cloudflare]\n" for z in zones)
    return f"""\
providers:
  config:
    class: octodns.provider.yaml.YamlProvider
    directory: {zone_dir}
  cloudflare:
    class: octodns_cloudflare.CloudflareProvider
    token: {TOKEN}
    api_url: {api_url}
    pagerules: false
zones:
{targets}"""


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    run = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if run.returncode not in (0, 2):
        raise SystemExit(f"{argv} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return time.perf_counter() - start


def measure(
    argvs: list[list[str]], cwd: Path, env_extra: dict[str, str], emu: CloudflareEmulator
) -> list[tuple[int, float]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    env.update(env_extra)
    out = []
    for argv in argvs:
        mark = len(emu.log)
        seconds = timed(argv, cwd, env)
        out.append((len(emu.log) - mark, seconds))
    return out


def emulator(
    zones: list[str], plan: str, latency_ms: float, rate_limit: tuple[int, float] | None
) -> CloudflareEmulator:
    """A fresh emulator for each tool, configured alike."""
    emu = CloudflareEmulator(tokens={TOKEN: None}, latency_ms=latency_ms)
    for zone in zones:
        emu.add_zone(zone, plan)
    if rate_limit is not None:
        emu.limit_rate(*rate_limit)
    return emu


def live_records(emu: CloudflareEmulator, zones: list[str]) -> int:
    return sum(len(emu.records(z)) for z in zones)


Commands = Callable[[str], tuple[list[list[str]], dict[str, str]]]


def plan_and_apply(
    commands: Commands, cwd: Path, zones: list[str], args: argparse.Namespace
) -> tuple[int, float, int, float, int]:
    """(plan requests, plan s, apply requests, apply s, records in the zones afterwards), the
    times the medians of ``args.repeat`` runs, each on a fresh emulator; ``commands`` gives the
    plan and apply command lines and their environment for the emulator's base URL."""
    plans, applies, counts, got = [], [], set(), 0
    for _ in range(args.repeat):
        emu = emulator(zones, args.plan, args.latency_ms, args.rate_limit)
        with emu.running():
            argvs, env = commands(emu.base_url)
            (p_req, p_s), (a_req, a_s) = measure(argvs, cwd, env, emu)
            got = live_records(emu, zones)
            refused = sum(r.status == 429 for r in emu.log)
            assert not refused, f"{refused} requests refused with 429"
        plans.append(p_s)
        applies.append(a_s)
        counts.add((p_req, a_req))
    assert len(counts) == 1, f"request counts differ between runs: {counts}"
    ((p_req, a_req),) = counts
    return p_req, statistics.median(plans), a_req, statistics.median(applies), got


def conditions(latency_ms: float) -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in lscpu.splitlines()
                if line.startswith("Model name:")
            ),
            platform.processor(),
        )
    except OSError:
        model = platform.processor()
    return (
        f"added round trip {latency_ms:g} ms a request; {os.cpu_count()} CPUs "
        f"({model}); {platform.python_implementation()} {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--octodns", help="path to octodns-sync (octoDNS 1.22)")
    parser.add_argument("--plan", default="free", help="the zones' Cloudflare plan")
    parser.add_argument(
        "--zones",
        type=int,
        default=1,
        metavar="Z",
        help="spread the accounts over Z zones (default 1: example.com)",
    )
    parser.add_argument(
        "--per-zone",
        type=int,
        metavar="K",
        help="K accounts a zone: ceil(N / K) zones for each size (overrides --zones)",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="Q/W",
        help="the emulator allows Q requests per W seconds, then blocks a whole window",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        metavar="MS",
        help="the emulator sleeps MS before answering each request, for both tools (default 0)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="R",
        help="report the median time of R runs (default 1)",
    )
    args = parser.parse_args()
    if args.zones < 1 or args.latency_ms < 0 or args.repeat < 1 or (args.per_zone or 1) < 1:
        parser.error("--zones, --per-zone and --repeat must be 1 or more, --latency-ms 0 or more")
    if args.rate_limit:
        quota, _, window = args.rate_limit.partition("/")
        args.rate_limit = (int(quota), float(window))
    tool = [sys.executable, "-m", "ametrika_gitops"]
    print(
        f"{conditions(args.latency_ms)}; median of {args.repeat} run(s); rate limit "
        f"{args.rate_limit or 'none'}",
        flush=True,
    )
    print(
        "| accounts | zones | records | tool | plan: requests | plan: s | apply: requests "
        "| apply: s |"
    )
    print("|---:|---:|---:|---|---:|---:|---:|---:|")
    for n in args.sizes:
        zones = -(-n // args.per_zone) if args.per_zone else args.zones
        names = zone_names(zones)
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            write_repo(repo, n, zones)
            records = 5 * n

            def ours(base_url: str) -> tuple[list[list[str]], dict[str, str]]:
                return (
                    [[*tool, "plan"], [*tool, "apply", "--auto-approve"]],
                    {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": base_url},
                )

            p_req, p_s, a_req, a_s, got = plan_and_apply(ours, repo, names, args)
            assert got == records
            print(
                f"| {n:,} | {zones:,} | {records:,} | ametrika-gitops | {p_req:,} | "
                f"{p_s:.2f} | {a_req:,} | {a_s:.2f} |",
                flush=True,
            )
            if not args.octodns:
                continue
            zone_dir = Path(tmp) / "zones"
            zone_dir.mkdir()
            for zone in names:
                (zone_dir / f"{zone}.yaml").write_text(
                    octodns_zone(n, zones, zone), encoding="utf-8"
                )
            config = Path(tmp) / "octodns.yaml"

            def theirs(
                base_url: str,
                config: Path = config,
                zone_dir: Path = zone_dir,
                names: list[str] = names,
            ) -> tuple[list[list[str]], dict[str, str]]:
                config.write_text(octodns_config(zone_dir, base_url, names), encoding="utf-8")
                sync = [args.octodns, "--config-file", str(config)]
                return [sync, [*sync, "--doit"]], {}

            p_req, p_s, a_req, a_s, got = plan_and_apply(theirs, Path(tmp), names, args)
            print(
                f"| {n:,} | {zones:,} | {got:,} | octoDNS 1.22 + octodns-cloudflare 1.2 | "
                f"{p_req:,} | {p_s:.2f} | {a_req:,} | {a_s:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
