"""`make run DEMO=1`: the launcher starts the platform, then the demo loader once through the public APIs; what it
loaded is there (counts per kind, a lineage reaching two sites, a hit under review, incidents in three stages), and a
second load is refused with exit code 3."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from libs.common.auth import issue_token
from libs.common.devservers import free_port
from libs.common.settings import ServiceSettings
from tests.test_local_run import FOREIGN, ROOT, SERVICES, Launcher, wait_until


@pytest.mark.timeout(600)
def test_make_run_demo_loads_the_programme_once(tmp_path):
    api_ports = {s: free_port() for s in SERVICES}
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN and not k.endswith(("_DATABASE_URL", "_PORT"))}
    env.update({f"{s.upper()}_PORT": str(p) for s, p in api_ports.items()})
    env.update({f"{s.upper()}_WORKER_PORT": str(free_port()) for s in SERVICES})
    env.update(ASSAY_VAR_DIR=str(tmp_path), KAFKA_PORT=str(free_port()), DEMO="1", DEMO_WAIT_SECONDS="240")
    launcher = Launcher(env)
    try:
        wait_until(
            lambda: "demo programme loaded" in launcher.output or "demo: failed" in launcher.output,
            timeout=480,
            what="the demo loaded",
            launcher=launcher,
        )
        assert "demo programme loaded" in launcher.output, launcher.output
        made = json.loads((tmp_path / "demo.json").read_text())
        secret = (tmp_path / "jwt-secret").read_text().strip()
        token = issue_token(
            ServiceSettings(jwt_secret=secret), user_id="t", org_id=made["org"], org_kind="operator", roles=["admin"]
        )
        http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)

        def get(service: str, path: str, **params: object) -> dict:  # type: ignore[type-arg]
            response = http.get(f"http://127.0.0.1:{api_ports[service]}{path}", params=params)
            assert response.status_code == 200, response.text
            return response.json()

        actors = get("kyc", "/actors", limit=100)["items"]
        kinds = sorted(a["actor_type"] for a in actors)
        assert kinds.count("cooperative") == 8 and kinds.count("smelter_refiner") == 2
        assert kinds.count("trader") == 2 and kinds.count("exporter") == 2
        assert sorted(a["kyc_status"] for a in actors).count("approved") == 13
        assert get("kyc", "/sites", limit=100)["total"] == 8
        assert get("kyc", "/licences", state="expiring", limit=100)["total"] >= 3

        hits = get("kyc", "/screening/hits", status="pending")["items"]
        assert len(hits) == 1
        under_review = get("kyc", f"/actors/{made['actors']['trader_kindu']}")
        assert under_review["kyc_status"] == "under_review"

        lineage = get("traceability", f"/lots/{made['lots']['shipment_penang']}/lineage", direction="up")
        assert sorted(lineage["site_ids"]) == sorted([made["sites"]["nyabibwe"], made["sites"]["kalima"]])
        assert len(made["lots"]) == 9 and get("traceability", "/anomalies")["total"] == 0

        statuses = sorted(i["status"] for i in get("incidents", "/incidents", limit=100)["items"])
        assert statuses == ["closed", "mitigation", "reported"]

        progress = get(
            "scoring", "/progress", framework="craft", subject_type="actor", subject_id=made["actors"]["coop_nyabibwe"]
        )
        overall = [point["overall"] for point in progress["points"]]
        assert len(overall) == 2 and overall[1] > overall[0]

        again = subprocess.run(
            [sys.executable, "-m", "deploy.demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 3, again.stdout + again.stderr
        assert "already" in again.stderr
    finally:
        if launcher.process.poll() is None:
            launcher.process.send_signal(signal.SIGTERM)
            launcher.process.wait(timeout=60)


def test_the_demo_receiver_prints_verified_deliveries_and_refuses_forged_ones():
    secret = "whsec_" + base64.b64encode(b"demo receiver secret, 32 bytes!!").decode()
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "deploy.demo", "receive", "--port", str(port), "--secret", secret],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/assay"
        body = json.dumps({"type": "incident.reported", "data": {"incident": {"reference": "INC-1", "status":
                           "reported", "title": "Pit collapse"}, "aggregate_version": 1}})  # fmt: skip
        now = datetime.now(UTC)
        signature = Webhook(secret).sign("msg_1", now, body)
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(int(now.timestamp())),
            "content-type": "application/json",
        }
        deadline = time.monotonic() + 30
        while True:  # until it listens
            try:
                good = httpx.post(url, content=body, headers={**headers, "webhook-signature": signature})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and receiver.poll() is None, "the receiver did not start"
                time.sleep(0.2)
        forged = httpx.post(
            url, content=body.replace("Pit", "Pot"), headers={**headers, "webhook-signature": signature}
        )
        assert (good.status_code, forged.status_code) == (204, 400)
    finally:
        receiver.send_signal(signal.SIGINT)
        output, _ = receiver.communicate(timeout=30)
    assert "verified msg_1 incident.reported: INC-1 reported Pit collapse" in output
    assert "REFUSED msg_1" in output
