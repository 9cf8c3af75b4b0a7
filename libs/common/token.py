"""`make token`: print a development token signed with this checkout's key (var/jwt-secret or JWT_SECRET)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from libs.common.auth import OrgKind, issue_token
from libs.common.settings import ServiceSettings

parser = argparse.ArgumentParser(prog="make token ARGS=...", description=__doc__)
parser.add_argument("--user", default="dev-admin")
parser.add_argument("--org", default="dev-operator")
parser.add_argument("--kind", default="operator", choices=[k.value for k in OrgKind])
parser.add_argument("--roles", default="admin,analyst", help="comma-separated: admin, analyst, field_agent, auditor")
parser.add_argument("--hours", type=float, default=12)

if __name__ == "__main__":
    args = parser.parse_args()
    print(
        issue_token(
            ServiceSettings(),
            user_id=args.user,
            org_id=args.org,
            org_kind=args.kind,
            roles=[r.strip() for r in args.roles.split(",") if r.strip()],
            ttl=timedelta(hours=args.hours),
        )
    )
