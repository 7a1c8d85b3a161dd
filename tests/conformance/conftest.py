"""Conformance fixtures: one Kafka Streams oracle JVM per session, its results for the whole
corpus in one batch, and the verdict collector that writes conformance/REPORT.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.compare import Verdict
from conformance.families import family_of
from conformance.oracle import Oracle
from conformance.report import REPORT, total_line, write
from conformance.scenarios import (
    Scenario,
    is_external,
    load_folder,
    scenario_folder,
)

TARGET = REPORT.parent / "target"
ROOT = REPORT.parent.parent
VERDICTS: list[Verdict] = []
NOTES: list[str] = []  # lines for the terminal summary (property-test coverage)


def corpus() -> list[Scenario]:
    """The scenarios this run covers (the project corpus or $CONFORMANCE_SCENARIOS)."""
    return load_folder(scenario_folder())


@pytest.fixture(scope="session")
def oracle() -> Iterator[Oracle]:
    """The Kafka Streams oracle (built with Maven on first use)."""
    with Oracle() as o:
        yield o


#: Run every scenario through the live oracle (`make conformance`); otherwise (`make test`)
#: scenarios with committed golden results ("expected", made by the same Kafka Streams) use
#: them and only the rest, plus one scenario per topology as a freshness sample, run live.
LIVE = os.environ.get("CONFORMANCE_LIVE_ORACLE") == "1"


def live_sample(scenarios: list[Scenario]) -> list[Scenario]:
    """The scenarios to run through Kafka Streams in this session."""
    if LIVE:
        return scenarios
    sampled: set[str] = set()
    out = []
    for s in scenarios:
        if "expected" not in s or s["topology"] not in sampled:
            sampled.add(s["topology"])
            out.append(s)
    return out


@pytest.fixture(scope="session")
def oracle_results(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """Kafka Streams' results for every corpus scenario, by name: live (one pipelined batch)
    for :func:`live_sample`, the committed golden results for the others."""
    scenarios = corpus()
    live = live_sample(scenarios)
    results = {s["name"]: s["expected"] for s in scenarios if "expected" in s}
    if live:
        oracle = request.getfixturevalue("oracle")
        results.update({s["name"]: r for s, r in zip(live, oracle.run_many(live), strict=True)})
    return results


@pytest.fixture(scope="session")
def live_oracle_names() -> set[str]:
    """Names of the scenarios whose results came from the live oracle this session."""
    return {s["name"] for s in live_sample(corpus())}


@pytest.fixture
def record_verdict() -> Callable[[Scenario, str, str], None]:
    """Record a scenario's verdict for REPORT.md."""

    def record(scenario: Scenario, status: str, detail: str = "") -> None:
        VERDICTS.append(Verdict(scenario["name"], scenario["topology"],
                                family_of(scenario["topology"]), status, detail))

    return record


def _report_path(complete: bool) -> Path:
    if os.environ.get("CONFORMANCE_REPORT"):
        return Path(os.environ["CONFORMANCE_REPORT"])
    if is_external():
        return TARGET / "REPORT.md"
    # A partial run (-k, -x, a failed collection) must not overwrite the committed report.
    return REPORT if complete else TARGET / "REPORT-partial.md"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the report when conformance scenarios ran in this session."""
    if not VERDICTS:
        return
    names = {v.name for v in VERDICTS}
    complete = names >= {s["name"] for s in corpus()}
    folder = scenario_folder()
    source = str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder)
    path = write(VERDICTS, source, _report_path(complete))
    NOTES.insert(0, f"conformance report: {path}")
    NOTES.insert(1, total_line(VERDICTS))
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: tests/conftest.py prints them for it
        workeroutput["summary_sections"] = {"conformance": list(NOTES)}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the totals (missing topologies pass as tests, so say how many there were)."""
    if NOTES:
        terminalreporter.section("conformance")
        for line in NOTES:
            terminalreporter.write_line(line)
