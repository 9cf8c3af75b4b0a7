"""python -m services.traceability.proofs verify bundle.json [--key pubkey.pem] [--checkpoint older.json]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.traceability.proofs.verify import VerificationFailed, verify_bundle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.traceability.proofs")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="check a lot's proof bundle offline")
    verify.add_argument("bundle", type=Path, help="the JSON of GET /lots/{lot_id}/proof")
    verify.add_argument("--key", type=Path, help="the operator's public key (PEM, from GET /proof-key)")
    verify.add_argument("--checkpoint", type=Path, help="a checkpoint saved earlier: the log must extend it")
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text())
        key = args.key.read_text() if args.key else None
        older = json.loads(args.checkpoint.read_text()) if args.checkpoint else None
        print(verify_bundle(bundle, key_pem=key, older=older))
    except VerificationFailed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"FAILED: unreadable bundle, key or checkpoint ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
