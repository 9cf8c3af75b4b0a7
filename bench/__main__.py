"""`make bench`: every benchmark, one after the other; they print figures and never fail the build."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    ["bench.bus"],
    ["bench.idle"],
    ["bench.fault_drain"],
    ["bench.kyc_screening"],
    ["bench.kyc_screening_quality"],
    ["bench.http"],
    ["bench.scoring_risk"],
    ["bench.incidents_intake"],
    ["bench.traceability_lineage"],
    ["bench.traceability_proofs"],
    ["bench.traceability_custody_view"],
    ["bench.traceability_writes"],
    ["bench.incidents_webhooks"],
    ["bench.system_http"],
    ["bench.system_latency"],
]

if __name__ == "__main__":
    for module in BENCHMARKS:
        print(f"\n== {module[0]} ==", flush=True)
        result = subprocess.run([sys.executable, "-m", *module])
        if result.returncode != 0:
            print(f"{module[0]} exited with {result.returncode}", flush=True)
