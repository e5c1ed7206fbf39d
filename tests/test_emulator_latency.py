"""The emulator's wire behaviour: no hidden delay on keep-alive connections, and an explicit,
equal round trip when one is asked for (``latency_ms``, ``--latency-ms``).

These are correctness tests, not performance figures: a response split into several writes on a
socket that keeps Nagle's algorithm meets the client's delayed ACK and costs ~40 ms a request on
Linux, which would make every client that sends many small requests look slow.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import cloudflare
import pytest

from ametrika_gitops.emulator.cloudflare import CloudflareEmulator

TOKEN = "latency-token"
BURST = 50
CEILING = 0.015  # per request; the delayed-ACK stall alone is ~40 ms
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def emu() -> Iterator[CloudflareEmulator]:
    e = CloudflareEmulator(tokens={TOKEN: None})
    e.add_zone("a.example")
    with e.running():
        yield e


def connection(base_url: str) -> tuple[http.client.HTTPConnection, str]:
    url = urlsplit(base_url)
    assert url.hostname is not None
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10), url.path


def exchange(
    conn: http.client.HTTPConnection, method: str, path: str, body: dict[str, object] | None = None
) -> int:
    data = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={**AUTH, "Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status


def test_keep_alive_burst_has_no_delayed_ack_stall(emu: CloudflareEmulator) -> None:
    conn, prefix = connection(emu.base_url)
    zid = emu.zone_named("a.example").id
    exchange(conn, "GET", f"{prefix}/zones")  # connect outside the timing
    start = time.perf_counter()
    for i in range(BURST // 2):
        assert exchange(conn, "GET", f"{prefix}/zones") == 200
        assert (
            exchange(
                conn,
                "POST",
                f"{prefix}/zones/{zid}/dns_records",
                {"type": "TXT", "name": f"t{i}", "content": "v", "ttl": 1},
            )
            == 200
        )
    elapsed = time.perf_counter() - start
    conn.close()
    assert len(emu.requests()) == BURST + 1  # one connection, every request answered
    assert elapsed < BURST * CEILING, f"{BURST} requests took {elapsed:.3f} s"


def test_keep_alive_burst_through_the_sdk(emu: CloudflareEmulator) -> None:
    cf = cloudflare.Cloudflare(api_token=TOKEN, base_url=emu.base_url, max_retries=0)
    zid = emu.zone_named("a.example").id
    cf.zones.list()  # connect and import the models outside the timing
    start = time.perf_counter()  # the SDK's own work is ~5 ms a create (its typed transforms)
    for i in range(BURST // 2):
        cf.zones.list()
        cf.dns.records.create(zone_id=zid, type="TXT", name=f"t{i}", content="v", ttl=1)
    elapsed = time.perf_counter() - start
    cf.close()
    assert len(emu.records("a.example")) == BURST // 2
    assert elapsed < BURST * CEILING, f"{BURST} SDK requests took {elapsed:.3f} s"


def test_latency_ms_delays_every_request() -> None:
    e = CloudflareEmulator(tokens={TOKEN: None}, latency_ms=60)
    with e.running():
        conn, prefix = connection(e.base_url)
        durations = []
        for _ in range(4):
            start = time.perf_counter()
            assert exchange(conn, "GET", f"{prefix}/zones") == 200
            durations.append(time.perf_counter() - start)
        conn.close()
    assert min(durations) >= 0.060, durations


def test_latency_ms_is_not_negative() -> None:
    with pytest.raises(ValueError):
        CloudflareEmulator(latency_ms=-1)


def test_command_line_latency_ms() -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ametrika_gitops.emulator",
            "--port",
            "0",
            "--token",
            TOKEN,
            "--zone",
            "a.example",
            "--latency-ms",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().split()[4]
        conn, prefix = connection(base_url)
        start = time.perf_counter()
        for _ in range(3):
            assert exchange(conn, "GET", f"{prefix}/zones") == 200
        elapsed = time.perf_counter() - start
        conn.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert elapsed >= 3 * 0.060
