"""A real HTTP server on loopback that answers the agent's reports with a scripted sequence."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = int | tuple[int, dict[str, str]]


class Script:
    """Answers reports with scripted statuses (and headers), then 200; the policy with 304."""

    def __init__(self, statuses: list[Answer]) -> None:
        self.statuses = statuses
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    def next_answer(self, path: str) -> tuple[int, dict[str, str]]:
        if path == "/api/v1/policy":
            return 304, {}
        answer = self.statuses.pop(0) if self.statuses else 200
        return (answer, {}) if isinstance(answer, int) else answer


@contextmanager
def scripted_server() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            script.received.append((self.path, dict(self.headers), body))
            status, headers = script.next_answer(self.path)
            payload = json.dumps(
                {"detail": f"scripted {status}", "accepted": True, "state": "compliant"}
            ).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status == 304:
                self.end_headers()
                return
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()
