"""Offline verification of a lot's proof bundle: no database, only the bundle, the public key and saved checkpoints."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from services.traceability.proofs import merkle, signing


class VerificationFailed(Exception):
    """The bundle does not prove what it claims; the message says which check failed, and where."""


def verify_checkpoint(checkpoint: Mapping[str, Any], key_pem: str) -> dict[str, Any]:
    """The signed facts of a checkpoint, after checking its signature with `key_pem`."""
    key = signing.load_public_pem(key_pem)
    text = checkpoint.get("statement", "")
    if not signing.verify_signature(key, text, str(checkpoint.get("signature", ""))):
        raise VerificationFailed("the checkpoint's signature does not verify with the operator's public key")
    facts: dict[str, Any] = json.loads(text)
    if facts.get("kind") != signing.STATEMENT_KIND or facts.get("key_id") != signing.key_id(key):
        raise VerificationFailed("the checkpoint is not a custody checkpoint signed by this key")
    for name in ("org_id", "tree_size", "root_hash"):  # the unsigned copies must say what the signed text says
        if name in checkpoint and checkpoint[name] != facts[name]:
            raise VerificationFailed(f"the checkpoint's {name} differs from what its signature covers")
    return facts


def verify_bundle(
    bundle: Mapping[str, Any], *, key_pem: str | None = None, older: Mapping[str, Any] | None = None
) -> str:
    """Check every event of the bundle against the signed checkpoint; returns a one-line summary."""
    pem = key_pem or bundle.get("public_key")
    if not pem:
        raise VerificationFailed("no public key: pass --key or use a bundle that carries one")
    head = verify_checkpoint(bundle["checkpoint"], pem)
    size, root = int(head["tree_size"]), bytes.fromhex(head["root_hash"])
    previous: tuple[int, str] | None = None
    for item in sorted(bundle["events"], key=lambda e: int(e["seq"])):
        _verify_event(item, size=size, root=root, org_id=head["org_id"], previous=previous)
        previous = (int(item["seq"]), item["hash"])
    if older is not None:
        _verify_older(bundle, head, older, pem)
    return f"OK: {len(bundle['events'])} events verified against checkpoint of size {size} ({head['root_hash'][:16]}…)"


def _verify_event(
    item: Mapping[str, Any], *, size: int, root: bytes, org_id: str, previous: tuple[int, str] | None
) -> None:
    seq, body = int(item["seq"]), str(item["body"])
    where = f"event at position {seq}"
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    if digest != item["hash"]:
        raise VerificationFailed(f"{where}: its body was changed (sha256 of the body is not the event's hash)")
    facts = json.loads(body)
    if facts.get("seq") != seq or facts.get("org_id") != org_id:
        raise VerificationFailed(f"{where}: the body says position {facts.get('seq')}: events were reordered")
    if previous is not None and previous[0] == seq - 1 and facts.get("prev_hash") != previous[1]:
        raise VerificationFailed(f"{where}: prev_hash does not chain to the event before it")
    if seq == 0 and facts.get("prev_hash") != "0" * 64:
        raise VerificationFailed(f"{where}: the first event of the log must chain to the genesis hash")
    proof = [bytes.fromhex(p) for p in item["inclusion_proof"]]
    try:
        merkle.verify_inclusion(merkle.leaf_hash(bytes.fromhex(digest)), seq, size, proof, root)
    except merkle.ProofError as exc:
        raise VerificationFailed(f"{where}: not in the signed log ({exc}): changed, moved or deleted") from exc


def _verify_older(bundle: Mapping[str, Any], head: Mapping[str, Any], older: Mapping[str, Any], pem: str) -> None:
    saved = verify_checkpoint(older, pem)
    if saved["org_id"] != head["org_id"]:
        raise VerificationFailed("the saved checkpoint is of another organisation's log")
    first, second = int(saved["tree_size"]), int(head["tree_size"])
    if first > second:
        raise VerificationFailed(f"the saved checkpoint ({first}) is newer than the bundle's ({second})")
    proofs = {int(c["first_size"]): c["proof"] for c in bundle.get("consistency", [])}
    if first != second and first not in proofs:
        raise VerificationFailed(
            f"the bundle has no consistency proof from size {first}: download it with ?since={first}"
        )
    try:
        merkle.verify_consistency(
            first,
            second,
            [bytes.fromhex(p) for p in proofs.get(first, [])],
            bytes.fromhex(saved["root_hash"]),
            bytes.fromhex(head["root_hash"]),
        )
    except merkle.ProofError as exc:
        raise VerificationFailed(
            f"the log does not extend the saved checkpoint: its history was rewritten ({exc})"
        ) from exc
