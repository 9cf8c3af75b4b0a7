"""A real HTTP receiver on loopback that verifies Standard Webhooks signatures and answers a script of codes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]
    signature: str
    verified: bool
    answered: int


@dataclass
class Receiver:
    """`script`: the status codes to answer in turn (then 200). `secret` set after the subscription is made."""

    script: list[int] = field(default_factory=list)
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds before answering (a slow receiver)
    port: int = 0

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                if receiver.delay:
                    time.sleep(receiver.delay)
                data = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Webhook(receiver.secret or "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(data, headers)
                    verified = True
                except WebhookVerificationError:
                    verified = False
                with receiver.lock:
                    code = receiver.script.pop(0) if receiver.script else 200
                    if not verified:
                        code = 401
                    receiver.received.append(
                        Received(headers["webhook-id"], json.loads(data), headers["webhook-signature"], verified, code)
                    )
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
