"""Requests and wall time to plan and apply N hosted accounts on one zone, against the
Cloudflare API emulator: ametrika-gitops (batch endpoint) and octoDNS with octodns-cloudflare
(one request per record), the same records for both.

    python3 -m venv /tmp/octo && /tmp/octo/bin/pip install octodns==1.22.0 octodns-cloudflare==1.2.0
    python3 bench/cloudflare.py --octodns /tmp/octo/bin/octodns-sync 10 100 1000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ametrika_gitops.config.model import Account, Dmarc, Hosted, Sender
from ametrika_gitops.dns.records import desired_records
from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

ROOT = Path(__file__).resolve().parent.parent
ZONE = "example.com"
TOKEN = "bench-token"
ACCOUNT = """\
version: 1
account: {{id: {id}, name: Account {id}, admins: ["@a"], locales: [en]}}
sender:
  mode: hosted
  from_name: Account {id}
  hosted:
    domain: mail-{id}.example.com
    from_address: news@mail-{id}.example.com
    verification: "token-{id}"
    dns: {{provider: cloudflare, zone: example.com}}
"""


def account_ids(n: int) -> list[str]:
    return [f"a{i:05d}" for i in range(n)]


def write_repo(dest: Path, n: int) -> None:
    for folder in ("templates", "schemas"):
        shutil.copytree(ROOT / folder, dest / folder)
    (dest / "accounts").mkdir()
    for aid in account_ids(n):
        (dest / "accounts" / f"{aid}.yaml").write_text(ACCOUNT.format(id=aid), encoding="utf-8")


def octodns_zone(n: int) -> str:
    """The same records as octoDNS YAML (names relative to the zone, sorted, TXT ';' escaped)."""
    entries: dict[str, list[str]] = {}
    for aid in account_ids(n):
        hosted = Hosted(
            f"mail-{aid}.{ZONE}",
            f"news@mail-{aid}.{ZONE}",
            f"token-{aid}",
            "amb",
            False,
            Dmarc(),
            "cloudflare",
            ZONE,
        )
        acc = Account(
            aid, aid, ("@a",), ("en",), Sender("hosted", "x", "", None, None, hosted), (), {}, ""
        )
        for r in desired_records(acc):
            name = r.name[: -len(ZONE) - 1]
            if r.type == "CNAME":
                entries[name] = ["  type: CNAME", f"  value: {r.content}."]
            else:
                value = r.content.replace(";", "\\;")
                entries[name] = ["  type: TXT", f"  value: '{value}'"]
    lines = ["---"]
    for name in sorted(entries):
        lines += [f"{name}:", *entries[name]]
    return "\n".join(lines) + "\n"


def octodns_config(zone_dir: Path, api_url: str) -> str:
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
  {ZONE}.:
    sources: [config]
    targets: [cloudflare]
"""


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[10, 100, 1000])
    parser.add_argument("--octodns", help="path to octodns-sync (octoDNS 1.22)")
    parser.add_argument("--plan", default="free", help="the zone's Cloudflare plan")
    args = parser.parse_args()
    tool = [sys.executable, "-m", "ametrika_gitops"]
    print("| accounts | records | tool | plan: requests | plan: s | apply: requests | apply: s |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp) / "repo"
            write_repo(repo, n)
            records = 5 * n
            emu = CloudflareEmulator(tokens={TOKEN: None})
            emu.add_zone(ZONE, args.plan)
            with emu.running():
                env = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_BASE_URL": emu.base_url}
                (p_req, p_s), (a_req, a_s) = measure(
                    [[*tool, "plan"], [*tool, "apply", "--auto-approve"]], repo, env, emu
                )
                assert len(emu.records(ZONE)) == records
            print(
                f"| {n:,} | {records:,} | ametrika-gitops | {p_req} | {p_s:.2f} | {a_req} | "
                f"{a_s:.2f} |",
                flush=True,
            )
            if not args.octodns:
                continue
            zones = Path(tmp) / "zones"
            zones.mkdir()
            (zones / f"{ZONE}.yaml").write_text(octodns_zone(n), encoding="utf-8")
            emu = CloudflareEmulator(tokens={TOKEN: None})
            emu.add_zone(ZONE, args.plan)
            with emu.running():
                config = Path(tmp) / "octodns.yaml"
                config.write_text(octodns_config(zones, emu.base_url), encoding="utf-8")
                sync = [args.octodns, "--config-file", str(config)]
                (p_req, p_s), (a_req, a_s) = measure([sync, [*sync, "--doit"]], Path(tmp), {}, emu)
                got = len(emu.records(ZONE))
            print(
                f"| {n:,} | {got:,} | octoDNS 1.22 + octodns-cloudflare 1.2 | {p_req} | "
                f"{p_s:.2f} | {a_req} | {a_s:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
