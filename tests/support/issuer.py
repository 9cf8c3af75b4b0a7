"""A small OpenID Connect issuer for the tests: a real HTTP server on loopback with a discovery document and a JWKS
whose keys the test rotates, and which signs tokens with them. It counts what it serves."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from libs.common.devservers import free_port

SUBJECT = "8f14e45f-ceea-467f-a8f2-5bd7c2b0c1aa"  # Keycloak's sub is the user's id
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningKey:
    def __init__(self, kid: str, *, curve: bool = False) -> None:
        self.kid = kid
        self.algorithm = "ES256" if curve else "RS256"
        self.private: PrivateKey = (
            ec.generate_private_key(ec.SECP256R1()) if curve else rsa.generate_private_key(65537, 2048)
        )

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = json.loads(algorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}


class Issuer:
    """`url` answers /.well-known/openid-configuration and /jwks once started; `publish` replaces the key set."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/realms/assay"
        self.published: list[SigningKey] = []
        self.served: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None

    def publish(self, *keys: SigningKey) -> None:
        self.published = list(keys)

    def start(self) -> Issuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                path = self.path.removeprefix("/realms/assay")
                if path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": issuer.url + "/jwks"}
                elif path == "/jwks":
                    body = {"keys": [key.jwk() for key in issuer.published]}
                else:
                    self.send_error(404)
                    return
                issuer.served[path] += 1
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def jwks_reads(self) -> int:
        return self.served["/jwks"]

    def token(self, key: SigningKey, *, kid: str | None = None, **claims: Any) -> str:
        """Keycloak-shaped access token: roles under realm_access.roles, organisation in custom claims."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "iss": self.url,
            "aud": "assay",
            "sub": SUBJECT,
            "preferred_username": "alice",
            "organisation": {"id": "org-a", "kind": "operator"},
            "realm_access": {"roles": ["analyst", "offline_access", "default-roles-assay"]},
            "iat": now,
            "exp": now + timedelta(minutes=5),
        }
        values.update(claims)
        values = {k: v for k, v in values.items() if v is not None}
        return jwt.encode(values, key.private, algorithm=key.algorithm, headers={"kid": kid or key.kid})


# The claim mapping of that Keycloak realm, as an operator would set it (README: "Keycloak").
KEYCLOAK_CLAIMS = {
    "jwt_claim_user": "sub",
    "jwt_claim_org": "organisation.id",
    "jwt_claim_org_kind": "organisation.kind",
    "jwt_claim_roles": "realm_access.roles",
}
