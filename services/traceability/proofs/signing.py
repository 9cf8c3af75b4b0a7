"""The Ed25519 key that signs checkpoints, and the signed statement's form: shared by the service and the verifier."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

STATEMENT_KIND = "assay.traceability.checkpoint/v1"


def load_private_key(secret: str) -> Ed25519PrivateKey:
    """A 32-byte seed in hex, or a PKCS#8 PEM."""
    text = secret.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("TRACEABILITY_PROOF_SIGNING_KEY is a PEM key, but not an Ed25519 one")
        return key
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))


def public_pem(key: Ed25519PublicKey) -> str:
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode()


def load_public_pem(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of sha256 over the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def statement(*, org_id: str, tree_size: int, root_hash: str, timestamp: str, key: str) -> str:
    """The exact text a checkpoint's signature covers (canonical JSON)."""
    body: dict[str, Any] = {
        "kind": STATEMENT_KIND,
        "org_id": org_id,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
        "key_id": key,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def verify_signature(key: Ed25519PublicKey, text: str, signature_hex: str) -> bool:
    try:
        key.verify(bytes.fromhex(signature_hex), text.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
