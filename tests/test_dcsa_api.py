"""The API's replay upload takes a DCSA file (`.json`) as it takes a v1 log."""

import io
import json

import pytest
from fastapi.testclient import TestClient

from tests.api_fixtures import TEST_KEY, wait_for_job
from tests.test_dcsa_replay import chongqing_day

pytestmark = pytest.mark.slow


def test_a_dcsa_upload_replays_and_lists_what_did_not_map(client: TestClient) -> None:
    body = json.dumps({"events": chongqing_day()}, indent=2).encode()
    files = {"log": ("tuanjiecun-day.json", io.BytesIO(body), "application/json")}
    started = client.post(
        "/replays", files=files, data={"seed": "3"}, headers={"X-API-Key": TEST_KEY}
    )
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert job["status"] == "done", job
    result = job["result"]
    assert result["rejected_lines"] == 1
    assert "EST" in result["rejections"][0]
    dwell = result["report"]["yards"]["tuanjiecun"]["dwell_h"]["by"]["export"]
    assert dwell["mean"] > 0  # the exports left on their train
    assert result["report"]["run"]["events"]["applied"]["train.scheduled"] == 1
