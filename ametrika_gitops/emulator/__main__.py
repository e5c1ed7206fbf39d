"""Serve the Cloudflare API emulator: python -m ametrika_gitops.emulator --zone example.com"""

from __future__ import annotations

import argparse
import time

from ametrika_gitops.emulator.cloudflare import CloudflareEmulator


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ametrika_gitops.emulator",
        description="A Cloudflare API v4 emulator on loopback.",
    )
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", default="test-token", help="the API token it accepts")
    parser.add_argument("--zone", action="append", default=[], help="a zone to serve")
    parser.add_argument("--plan", default="free", help="the zones' plan (free: 200 a batch)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0,
        metavar="MS",
        help="sleep MS milliseconds before answering each request, to model "
        "a network round trip (default 0: answer at once)",
    )
    args = parser.parse_args()
    if args.latency_ms < 0:
        parser.error("--latency-ms must be 0 or more")
    emu = CloudflareEmulator(tokens={args.token: None}, latency_ms=args.latency_ms)
    for zone in args.zone:
        emu.add_zone(zone, args.plan)
    emu.start(port=args.port)
    print(
        f"Cloudflare API emulator on {emu.base_url} (token {args.token!r}, "
        f"{args.latency_ms:g} ms added a request); Ctrl-C to stop",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    main()
