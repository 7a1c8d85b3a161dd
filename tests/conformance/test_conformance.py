"""Every corpus scenario through Kafka Streams (the oracle) and through streams_app's
TopologyTestDriver: outputs identical record by record and identical final stores.

A scenario whose topology streams_app cannot build yet passes here but is counted as missing
in conformance/REPORT.md and in the terminal summary; test_core_topologies_are_built keeps
that honest for the operators the DSL is meant to have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance import engine
from conformance.compare import DIFFERENT, IDENTICAL, MISSING, explain
from conformance.families import TOPOLOGIES, by_family
from conformance.scenarios import Scenario, is_external

from .conftest import corpus

SCENARIOS = corpus()
CORE_FAMILIES = ("stream", "aggregate", "table")


# Under CONFORMANCE_LIVE_ORACLE=1 the first scenario's setup runs the whole corpus through the
# oracle in one batch (about 1,300 scenarios): on a loaded machine that alone passed the
# default 300 s timeout.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_scenario(scenario: Scenario, oracle_results: dict[str, dict[str, Any]],
                  record_verdict: Callable[[Scenario, str, str], None]) -> None:
    """streams_app produces exactly what Kafka Streams produces (or the topology is missing)."""
    expected = oracle_results[scenario["name"]]
    if "error" in expected:
        record_verdict(scenario, DIFFERENT, f"oracle error: {expected['error']}")
        pytest.fail(f"Kafka Streams rejected the scenario: {expected['error']}")
    wanted = {"stores": list(expected["stores"]), "window_stores": list(expected["window_stores"])}
    try:
        actual = engine.run(scenario, wanted)
    except engine.Missing as exc:
        record_verdict(scenario, MISSING, str(exc))
        return
    except Exception as exc:
        record_verdict(scenario, DIFFERENT, f"streams_app raised {type(exc).__name__}: {exc}")
        raise
    diff = explain(expected, actual)
    record_verdict(scenario, IDENTICAL if not diff else DIFFERENT, diff)
    assert not diff, f"{scenario['name']} differs from Kafka Streams:\n{diff}"


def test_golden_is_current(oracle_results: dict[str, dict[str, Any]],
                           live_oracle_names: set[str]) -> None:
    """Committed golden results ("expected") still match Kafka Streams (else regenerate):
    all of them under CONFORMANCE_LIVE_ORACLE=1 (`make conformance`), one per topology in
    `make test`."""
    checked = [s for s in SCENARIOS if "expected" in s and s["name"] in live_oracle_names]
    assert checked or is_external(), "no golden result was checked against Kafka Streams"
    stale = {
        s["name"]: diff
        for s in checked
        if (diff := explain(s["expected"], oracle_results[s["name"]]))
    }
    assert not stale, ("stale golden results; run `python -m conformance.generate --golden`:\n"
                       + "\n".join(f"{n}: {d}" for n, d in list(stale.items())[:10]))


def test_corpus_covers_every_topology() -> None:
    """At least 150 scenarios, and every catalogue topology has some (an external folder
    only needs to hold scenarios)."""
    if is_external():
        assert SCENARIOS, "the CONFORMANCE_SCENARIOS folder holds no scenarios"
        return
    assert len(SCENARIOS) >= 150
    covered = {s["topology"] for s in SCENARIOS}
    assert set(TOPOLOGIES) <= covered, f"no scenarios for {set(TOPOLOGIES) - covered}"


@pytest.mark.parametrize("family", CORE_FAMILIES)
def test_core_topologies_are_built(family: str) -> None:
    """The DSL issue promises every stream, aggregation and table operator: none may be
    missing once streams_app exports its StreamsBuilder."""
    import streams_app

    if not hasattr(streams_app, "StreamsBuilder"):
        pytest.fail("streams_app does not export StreamsBuilder yet")
    missing = {}
    for spec in by_family(family):
        for params in spec.variants:
            try:
                engine.build({"topology": spec.name, "params": params})
            except engine.Missing as exc:
                missing[spec.name] = str(exc)
    assert not missing, f"streams_app cannot build: {missing}"
