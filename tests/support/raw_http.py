"""HTTP below the clients: requests no client library would send."""

from __future__ import annotations

import json
import socket


def unparsable_request(port: int) -> tuple[bytes, bytes]:
    """A request with a header line that has no colon; the answer's head and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def is_bad_request_problem(answer: tuple[bytes, bytes]) -> bool:
    head, body = answer
    if not head.startswith(b"HTTP/1.1 400") or b"content-type: application/problem+json" not in head.lower():
        return False
    return bool(json.loads(body)["code"] == "bad_request")
