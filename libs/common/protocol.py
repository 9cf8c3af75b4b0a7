"""uvicorn's HTTP protocol with one change: a request it cannot parse is answered with a problem+json 400, like every
other refusal of ours, instead of uvicorn's text/plain "Invalid HTTP request received." Given to uvicorn by import
path (`HTTP_PROTOCOL`), so the API's worker processes import it too."""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

BAD_REQUEST = json.dumps(
    {
        "type": "https://assay.dev/problems/bad_request",
        "title": "Bad request",
        "status": 400,
        "detail": "the request could not be read as HTTP/1.1",
        "code": "bad_request",
    }
).encode()


def _answer(state: ServerState, transport: asyncio.Transport) -> None:
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in state.default_headers]
    head += [
        b"content-type: application/problem+json\r\n",
        b"content-length: " + str(len(BAD_REQUEST)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    transport.write(b"".join(head) + BAD_REQUEST)
    transport.close()


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        _answer(self.server_state, self.transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools comes with uvicorn[standard]
    HTTP_PROTOCOL = "libs.common.protocol:ProblemH11Protocol"
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            _answer(self.server_state, self.transport)

    HTTP_PROTOCOL = "libs.common.protocol:ProblemHttpToolsProtocol"
