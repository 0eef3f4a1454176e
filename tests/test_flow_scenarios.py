"""The public flow tenant's conversation (buttons, tap turns, capture + calc, a role by keyword,
commands, the session timeout and the hand-off to the sales assistant), run in process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scenario_checker import run_scenario_in_process  # noqa: E402

FLOW_SCENARIO = Path(__file__).resolve().parents[2] / "shared" / "scenarios" / "v2" / "03_flujo_lavanderia.yaml"


@pytest.mark.skipif(not FLOW_SCENARIO.exists(), reason=f"{FLOW_SCENARIO} is not available")
def test_public_flow_scenario() -> None:
    result = run_scenario_in_process(FLOW_SCENARIO)
    if not result.ok:
        pytest.fail(f"{FLOW_SCENARIO.name}:\n{result.report()}", pytrace=False)
