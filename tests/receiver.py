"""A local stand-in for a platform adapter: receives outbound webhook posts over HTTP."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List

from bot.channels.contract import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


class Receiver:
    """Records signed posts; can be told to fail the next N requests."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: List[Dict] = []
        self.rejected_signatures = 0
        self.fail_next = 0
        self.failing_chats = set()  # destinations that always fail
        self.requests = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests += 1
                    chat = (json.loads(body).get("destination") or {}).get("chat_id")
                    if chat in receiver.failing_chats or receiver.fail_next > 0:
                        receiver.fail_next = max(0, receiver.fail_next - 1)
                        self.send_response(503)
                        self.end_headers()
                        return
                    timestamp = self.headers.get(TIMESTAMP_HEADER) or ""
                    if self.headers.get(SIGNATURE_HEADER) != sign(body, receiver.secret, timestamp) \
                            or abs(time.time() - int(timestamp or 0)) > 300:
                        receiver.rejected_signatures += 1
                        self.send_response(401)
                        self.end_headers()
                        return
                    receiver.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # http.server's listen backlog is 5: a burst of posts (an announcement to many
            # groups) would wait on TCP retransmits, which no real adapter behind a proper
            # web server does
            request_queue_size = 1024
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/outbound"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate: Callable[[List[Dict]], bool], timeout: float = 15.0) -> List[Dict]:
        from tests.e2e import wait_for_snapshot

        return wait_for_snapshot(self._lock, self.received, predicate, timeout, "receiver")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
