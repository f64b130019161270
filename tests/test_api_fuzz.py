"""Fuzzing the whole OpenAPI schema: no 5xx, no answer that breaks its own schema.

schemathesis generates requests for every operation (valid and invalid ones) against the app
over a populated SQLite store, with reads protected by a token so the auth checks have teeth;
it sends the API key, which grants reads and changes. The schema is loaded when the module is
collected (schemathesis's lazy fixture loader does not work with pytest 9), so the app and its
database directory are made then.

Two runs of the same checks:
- `test_every_operation_keeps_its_contract` (CI): 25 examples per operation, derandomized, so
  every run sends the same requests and a good change never fails by luck.
- `test_every_operation_keeps_its_contract_randomized` (marker `fuzz_long`, skipped unless
  selected): 500 fresh random examples per operation, for hunting new failures —
  `pytest -m fuzz_long tests/test_api_fuzz.py`.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.app import create_app
from api.store.sql_store import SqlStore
from tests.api_fixtures import T0, TEST_KEY, corridor_batch, test_settings

pytestmark = pytest.mark.slow

DATABASE_DIR = Path(tempfile.mkdtemp(prefix="corridor-fuzz-"))
DATABASE_URL = f"sqlite:///{DATABASE_DIR / 'corridor.db'}"
APP = create_app(test_settings(DATABASE_URL, read_token=SecretStr("fuzz-read-token-81c2")))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(path="/stream/kpis")
"""Every operation but the event stream, which never ends by design (see test_api_stream)."""


@pytest.fixture(scope="module", autouse=True)
def populated_store() -> Iterator[SqlStore]:
    """A day of snapshots in the store, and the app's lifespan (migrations, replay pool) running."""
    store = SqlStore.open(DATABASE_URL)
    store.commit(corridor_batch(T0))
    with TestClient(APP):
        yield store
    store.close()
    shutil.rmtree(DATABASE_DIR, ignore_errors=True)


CROSS_FIELD = {"/yards/{yard}/kpis/history", "/corridor/kpis/history", "/replays", "/whatif"}
"""These refuse some schema-valid requests by rules a schema cannot state, with a 422 naming
the rule: history (from <= to, at most 2000 buckets, times in 2000-2099), replays (the log's
file name ending, the scenario's keys) and what-ifs (the scenario's keys; `scenario` or
`scenario_toml`, exactly one). For them the "schema-valid request accepted" check does
not apply; every other check does."""


def _call_and_validate(case: schemathesis.Case[Any]) -> None:
    excluded: list[schemathesis.CheckFunction] = (
        [positive_data_acceptance] if case.operation.path in CROSS_FIELD else []
    )
    case.call_and_validate(headers={"X-API-Key": TEST_KEY}, excluded_checks=excluded)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case[Any]) -> None:
    _call_and_validate(case)


LONG_EXAMPLES = int(os.environ.get("CORRIDOR_FUZZ_EXAMPLES", "500"))


@pytest.fixture
def long_fuzz_selected(request: pytest.FixtureRequest) -> None:
    """Skip unless the run selected the marker (it is too long for every test run)."""
    if "fuzz_long" not in (request.config.option.markexpr or ""):
        pytest.skip("the long randomized fuzz runs only when selected: -m fuzz_long")


@pytest.mark.fuzz_long
@pytest.mark.usefixtures("long_fuzz_selected")
@schema.parametrize()
@settings(max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract_randomized(case: schemathesis.Case[Any]) -> None:
    _call_and_validate(case)


def test_the_fuzzed_store_holds_data(populated_store: SqlStore) -> None:
    """The success paths are reachable: the store the fuzzing runs against is populated."""
    with TestClient(APP) as client:
        response = client.get("/yards/yuzui/kpis", headers={"X-API-Key": TEST_KEY})
    assert response.status_code == 200
