"""`make token`: print a development token signed with this checkout's key (var/jwt-secret or JWT_SECRET)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta

from libs.common.auth import OrgKind, Role, issue_token
from libs.common.settings import ServiceSettings

ROLE_NAMES = [role.value for role in Role]


def role_list(text: str) -> list[str]:
    """Comma-separated role names, each one the services check; anything else is refused, not signed."""
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in roles if r not in ROLE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLE_NAMES)}")
    return roles


parser = argparse.ArgumentParser(prog="make token ARGS=...", description=__doc__)
parser.add_argument("--user", default="dev-admin")
parser.add_argument("--org", default="dev-operator")
parser.add_argument("--kind", default="operator", choices=[k.value for k in OrgKind])
parser.add_argument(
    "--roles", type=role_list, default="admin,analyst", help=f"comma-separated: {', '.join(ROLE_NAMES)}"
)
parser.add_argument("--hours", type=float, default=12)
parser.add_argument("--actor", default=None, help="the smelter's actor id in the programme (claim actor_id)")


def main(argv: Sequence[str] | None = None) -> str:
    args = parser.parse_args(argv)
    if not args.user.strip() or not args.org.strip():
        parser.error("--user and --org must not be empty")
    return issue_token(
        ServiceSettings(),
        user_id=args.user,
        org_id=args.org,
        org_kind=args.kind,
        roles=args.roles,
        ttl=timedelta(hours=args.hours),
        actor_id=args.actor.strip() if args.actor else None,
    )


if __name__ == "__main__":
    print(main())
