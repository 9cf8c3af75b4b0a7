"""TraceabilitySettings: typed, read from the environment, built in main.py and in tests."""

from __future__ import annotations

from pydantic import Field, SecretStr

from libs.common.settings import ServiceSettings, sqlite_url


class TraceabilitySettings(ServiceSettings):
    service_name: str = "traceability"
    database_url: SecretStr = Field(
        default_factory=lambda: SecretStr(sqlite_url("traceability")), alias="TRACEABILITY_DATABASE_URL"
    )
    api_port: int = Field(8003, alias="TRACEABILITY_PORT")
    worker_port: int = Field(9103, alias="TRACEABILITY_WORKER_PORT")
    # Ed25519 key that signs the custody log's checkpoints: a 32-byte seed in hex, or a PKCS#8 PEM. Empty (dev and
    # local runs): one generated once into var/traceability-proof-key and kept there.
    proof_signing_key: SecretStr = Field(SecretStr(""), alias="TRACEABILITY_PROOF_SIGNING_KEY")
    checkpoint_every_seconds: float = Field(60.0, gt=0, alias="TRACEABILITY_CHECKPOINT_SECONDS")
    # Requests per minute one client address may make to the public tag check (GET /public/tags/{tag}).
    public_tag_rate_per_minute: int = Field(30, ge=1, alias="TRACEABILITY_PUBLIC_TAG_RATE_PER_MINUTE")
