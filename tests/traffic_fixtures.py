"""The fixture for tests that run the engine on generated traffic: the baseline yards.

`stations` is the three baseline yards, loaded once per test module; `generated_day` in
`tests.broker_fixtures` generates their traffic from the scenario's default start.
"""

import pytest

from stations.spec import StationSpec, load_all_stations


@pytest.fixture(scope="module")
def stations() -> dict[str, StationSpec]:
    """The three baseline yards."""
    return load_all_stations()
