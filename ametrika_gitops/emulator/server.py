"""The emulator's HTTP side: one handler thread per connection, keep-alive, no Nagle stall."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ametrika_gitops.emulator.api import LoggedRequest
from ametrika_gitops.emulator.api import envelope as _envelope

if TYPE_CHECKING:
    from ametrika_gitops.emulator.cloudflare import CloudflareEmulator


class Handler(BaseHTTPRequestHandler):
    emu: CloudflareEmulator
    protocol_version = "HTTP/1.1"
    # keep-alive: a small answer held back by Nagle until the client's delayed ACK (~40 ms on
    # Linux) would be the emulator's own cost, paid by every request of a chatty client
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the log is in memory
        pass

    def _serve(self) -> None:
        emu = self.emu
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        if emu.latency_ms:
            time.sleep(emu.latency_ms / 1000)
        with emu._lock:
            fault = next((f for f in emu.faults if f.matches(self.command, url.path)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.after_commit and (fault.drop or fault.status):
            emu.log.append(
                LoggedRequest(
                    self.command, url.path, url.query, 0 if fault.drop else fault.status or 0
                )
            )
            if fault.drop:
                self.close_connection = True
                return
            self._send(fault.status or 500, _envelope(None, None, [(10002, "Internal error")]), {})
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            status, headers = 400, dict[str, str]()
            envelope = _envelope(None, None, [(9207, "Request body is invalid.")])
        else:
            status, envelope, headers = emu.answer(self.command, url.path, query, token, body)
        if fault is not None and fault.after_commit:
            emu.log.append(
                LoggedRequest(
                    self.command, url.path, url.query, 0 if fault.drop else fault.status or 500
                )
            )
            if fault.drop:
                self.close_connection = True
                return
            self._send(fault.status or 500, _envelope(None, None, [(10002, "Internal error")]), {})
            return
        emu.log.append(LoggedRequest(self.command, url.path, url.query, status))
        self._send(status, envelope, headers, cut=fault is not None and fault.truncate)

    def _send(
        self, status: int, envelope: dict[str, Any], headers: dict[str, str], cut: bool = False
    ) -> None:
        # status line, headers and body in one write: split, the body waits for an ACK
        data = json.dumps(envelope).encode()
        if cut:
            data = data[: len(data) // 2]
        reason = self.responses[status][0] if status in self.responses else ""
        lines = [
            f"{self.protocol_version} {status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            "Content-Type: application/json",
            f"Content-Length: {len(data)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
