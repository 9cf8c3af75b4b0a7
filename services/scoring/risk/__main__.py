"""python -m services.scoring.risk recompute-scores: rescore every actor, site and lot (the entry point of
libs/common/entry takes no extra commands)."""

from __future__ import annotations

import argparse
import asyncio
import json

from libs.common.db import engine_for, make_sessions
from services.scoring.risk.recompute import BATCH, recompute_all
from services.scoring.settings import ScoringSettings


async def _run(batch: int) -> dict[str, int]:
    engine = engine_for(ScoringSettings())
    try:
        return await recompute_all(make_sessions(engine), batch=batch)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.scoring.risk")
    parser.add_argument("command", choices=["recompute-scores"])
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    print(json.dumps({"changed": asyncio.run(_run(args.batch))}))


if __name__ == "__main__":
    main()
