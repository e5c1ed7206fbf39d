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
    args = parser.parse_args()
    emu = CloudflareEmulator(tokens={args.token: None})
    for zone in args.zone:
        emu.add_zone(zone, args.plan)
    emu.start(port=args.port)
    print(
        f"Cloudflare API emulator on {emu.base_url} (token {args.token!r}); Ctrl-C to stop",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emu.stop()


if __name__ == "__main__":
    main()
