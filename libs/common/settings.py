"""Settings every service shares, read from the environment (pydantic-settings)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("ASSAY_VAR_DIR") or ROOT / "var")


class ServiceSettings(BaseSettings):
    """Shared knobs; each service subclasses this and adds its own database URL and domain settings."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    service_name: str = "service"
    database_url: SecretStr = SecretStr("")  # may hold a password: SecretStr keeps it out of reprs and logs
    api_port: int = 8000  # each service's subclass reads it from <SERVICE>_PORT
    worker_port: int = 9100  # the worker's /health, /ready and /metrics; <SERVICE>_WORKER_PORT
    worker_host: str = Field("127.0.0.1", alias="HOST")  # the same variable as the api's --host default
    # Who may say who the client is (X-Forwarded-For, -Proto): the gateway of `make run` on loopback, nginx's fixed
    # address in compose. Comma-separated addresses or networks; a request from anyone else keeps its peer address.
    forwarded_allow_ips: str = Field("127.0.0.1", alias="FORWARDED_ALLOW_IPS")

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    # Tansu (the embedded broker) has no idempotent producer; Apache Kafka in compose turns this on.
    kafka_enable_idempotence: bool = Field(False, alias="KAFKA_ENABLE_IDEMPOTENCE")
    kafka_topic_partitions: int = Field(4, alias="KAFKA_TOPIC_PARTITIONS")
    # True only for a broker that may forget its log (the embedded memory broker of `make run` and the tests):
    # relays and consumers then watch the broker's epoch and refill / re-read after it changes. Off for Kafka.
    kafka_broker_forgets: bool = Field(False, alias="KAFKA_BROKER_FORGETS")
    broker_epoch_check_seconds: float = Field(5.0, alias="BROKER_EPOCH_CHECK_SECONDS")

    s3_endpoint: str = Field("", alias="S3_ENDPOINT")
    s3_access_key: str = Field("", alias="S3_ACCESS_KEY")
    s3_secret_key: SecretStr = Field(SecretStr(""), alias="S3_SECRET_KEY")
    s3_region: str = Field("us-east-1", alias="S3_REGION")
    s3_secure: bool = Field(False, alias="S3_SECURE")
    s3_bucket_prefix: str = Field("assay-", alias="S3_BUCKET_PREFIX")
    storage_dir: Path = Field(VAR_DIR / "objects", alias="STORAGE_DIR")
    max_object_bytes: int = Field(20 * 1024 * 1024, alias="MAX_OBJECT_BYTES")
    # The largest request body a route accepts unless it declares its own (uploads: libs.common.gate.body_limit).
    max_request_bytes: int = Field(10 * 1024 * 1024, ge=1, alias="MAX_REQUEST_BYTES")

    # Bearer tokens: a shared secret (HS256, `make token`), a public key, or an OpenID Connect issuer's JWKS.
    jwt_secret: SecretStr = Field(SecretStr(""), alias="JWT_SECRET")
    jwt_public_key: str = Field("", alias="JWT_PUBLIC_KEY")
    # Comma-separated; empty: HS256 with a secret, the asymmetric ones (ASYMMETRIC_ALGORITHMS) with a key or issuer.
    jwt_algorithms: str = Field("", alias="JWT_ALGORITHMS")
    jwt_issuer: str = Field("assay", alias="JWT_ISSUER")  # with OIDC_ISSUER, the issuer's own name is expected
    jwt_audience: str = Field("assay", alias="JWT_AUDIENCE")  # comma-separated: one must be in `aud`; empty: any
    jwt_leeway_seconds: float = Field(0.0, ge=0, le=300, alias="JWT_LEEWAY_SECONDS")  # clock skew on exp/nbf/iat
    # Where the caller's identity is in the claims: a dotted path (Keycloak: realm_access.roles); a key that itself
    # holds dots (Auth0's https://example.com/org) is matched whole first.
    jwt_claim_user: str = Field("sub", alias="JWT_CLAIM_USER")
    jwt_claim_org: str = Field("org", alias="JWT_CLAIM_ORG")
    jwt_claim_org_kind: str = Field("org_kind", alias="JWT_CLAIM_ORG_KIND")
    jwt_claim_roles: str = Field("roles", alias="JWT_CLAIM_ROLES")
    # A smelter's actor id in the programme (optional claim; traceability refuses a smelter token without it).
    jwt_claim_actor_id: str = Field("actor_id", alias="JWT_CLAIM_ACTOR_ID")
    oidc_issuer: str = Field("", alias="OIDC_ISSUER")  # set: keys from <issuer>/.well-known/openid-configuration
    oidc_jwks_url: str = Field("", alias="OIDC_JWKS_URL")  # the JWKS itself, skipping discovery
    oidc_jwks_refresh_seconds: float = Field(300.0, gt=0, alias="OIDC_JWKS_REFRESH_SECONDS")  # re-read the keys
    # A token naming a key we do not know re-reads the keys at most this often (no fetch storm from forged kids).
    oidc_jwks_min_refresh_seconds: float = Field(30.0, ge=0, alias="OIDC_JWKS_MIN_REFRESH_SECONDS")
    oidc_timeout_seconds: float = Field(5.0, gt=0, alias="OIDC_TIMEOUT_SECONDS")

    outbox_retention_hours: int = Field(168, alias="OUTBOX_RETENTION_HOURS")
    inbox_retention_hours: int = Field(720, alias="INBOX_RETENTION_HOURS")
    relay_batch_size: int = Field(1000, alias="RELAY_BATCH_SIZE")
    relay_idle_seconds: float = Field(0.02, alias="RELAY_IDLE_SECONDS")  # poll interval while events flow
    relay_max_idle_seconds: float = Field(5.0, alias="RELAY_MAX_IDLE_SECONDS")  # poll interval once idle
    relay_ack_timeout_seconds: float = Field(5.0, alias="RELAY_ACK_TIMEOUT_SECONDS")
    # How long the broker may hold a fetch. Tansu holds it for a good part of the wait even when data arrives, so
    # it is short while events flow (latency) and long once the consumer has been idle a while (idle CPU).
    consumer_fetch_wait_ms: int = Field(20, alias="CONSUMER_FETCH_WAIT_MS")
    consumer_idle_fetch_wait_ms: int = Field(500, alias="CONSUMER_IDLE_FETCH_WAIT_MS")
    consumer_max_attempts: int = Field(5, alias="CONSUMER_MAX_ATTEMPTS")
    consumer_retry_backoff_seconds: float = Field(0.2, alias="CONSUMER_RETRY_BACKOFF_SECONDS")
    # Infrastructure errors (database or broker unreachable) are retried for ever with this cap; never dead-lettered.
    outage_backoff_max_seconds: float = Field(10.0, alias="OUTAGE_BACKOFF_MAX_SECONDS")
    worker_liveness_seconds: float = Field(90.0, alias="WORKER_LIVENESS_SECONDS")
    scheduler_interval_seconds: float = Field(30.0, alias="SCHEDULER_INTERVAL_SECONDS")

    # HTTP: uvicorn worker processes of `python -m services.<name> api`, and the verified-token cache of each.
    api_workers: int = Field(1, ge=1, alias="API_WORKERS")
    token_cache_size: int = Field(4096, ge=0, alias="TOKEN_CACHE_SIZE")  # 0: verify every request's token
    token_cache_seconds: float = Field(60.0, ge=0, alias="TOKEN_CACHE_SECONDS")  # never past the token's exp

    # Database connections per process (each API worker, the worker): a fixed pool, most recently used first.
    db_pool_size: int = Field(10, ge=1, alias="DB_POOL_SIZE")
    db_pool_overflow: int = Field(0, ge=0, alias="DB_POOL_OVERFLOW")  # extra connections opened under a burst
    db_pool_timeout_seconds: float = Field(30.0, gt=0, alias="DB_POOL_TIMEOUT_SECONDS")  # wait for a free one
    # An API process's connections for reads and one-statement writes (DbRead, DbStatement), besides DB_POOL_SIZE.
    db_statement_pool_size: int = Field(
        default_factory=lambda: statement_pool_default(os.cpu_count()), ge=1, alias="DB_STATEMENT_POOL_SIZE"
    )
    # A pooled connection idle longer than this is pinged before use (0: before every use); busy ones are not.
    db_ping_idle_seconds: float = Field(10.0, ge=0, alias="DB_PING_IDLE_SECONDS")

    log_level: str = Field("INFO", alias="LOG_LEVEL")

    @property
    def topic(self) -> str:
        return f"{self.service_name}.events"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.service_name}.deadletter"

    @property
    def uses_issuer(self) -> bool:
        return bool(self.oidc_issuer or self.oidc_jwks_url)

    def accepted_algorithms(self) -> list[str]:
        named = [a.strip() for a in self.jwt_algorithms.split(",") if a.strip()]
        if named:
            return named
        return list(ASYMMETRIC_ALGORITHMS) if self.uses_issuer or self.jwt_public_key else ["HS256"]

    def accepted_audiences(self) -> list[str]:
        return [a.strip() for a in self.jwt_audience.split(",") if a.strip()]

    def jwt_signing_secret(self) -> str:
        """The shared secret of HS256 tokens: JWT_SECRET, else this checkout's var/jwt-secret."""
        return self.jwt_secret.get_secret_value() or dev_jwt_secret()

    @model_validator(mode="after")
    def _one_kind_of_key(self) -> Self:
        # A public key or JWKS handed to an HMAC algorithm would be a shared secret anyone can read.
        symmetric = [a for a in self.accepted_algorithms() if a.upper().startswith("HS")]
        if symmetric and (self.uses_issuer or self.jwt_public_key):
            raise ValueError(f"JWT_ALGORITHMS {symmetric} need JWT_SECRET, not a public key or an OIDC issuer")
        return self


ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


def dev_jwt_secret() -> str:
    """A random secret made once per checkout under var/, so no default key is ever shipped."""
    path = VAR_DIR / "jwt-secret"
    if not path.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def sqlite_url(name: str) -> str:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{VAR_DIR / (name + '.db')}"


def statement_pool_default(cores: int | None) -> int:
    """DB_STATEMENT_POOL_SIZE when unset: twice the machine's cores, from 4 to 10. Each of these connections holds
    one statement at a time, so more of them than PostgreSQL has cores to run them only queue inside PostgreSQL,
    where waiting backends cost CPU that the API shares when both run on one machine, as `make run` and
    docker-compose have them. On the 2-core development machine, 4 instead of 10 took POST /actors' p99 from a
    median of 55.6 ms to 46.0 ms over seven paired runs at the same rate, and PostgreSQL's CPU per request fell
    (docs/benchmarks.md)."""
    return min(10, max(4, 2 * (cores or 1)))
