"""The harness itself can fail: differences are detected, bad scenarios are rejected with
the field named, the oracle reports errors, and a deliberately wrong streams_app topology is
caught as different."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conformance import catalogue, engine
from conformance.compare import DIFFERENT, IDENTICAL, MISSING, Verdict, differences
from conformance.oracle import Oracle
from conformance.report import render, total_line
from conformance.scenarios import ScenarioError, cache_max_bytes, load_file, load_folder

from . import test_differential

RESULT: dict[str, Any] = {
    "outputs": {"output": [{"key": "a", "value": 1, "timestamp": 5},
                           {"key": "a", "value": 2, "timestamp": 7}]},
    "stores": {"store": {"a": 2}},
    "window_stores": {},
}
SCENARIO = {
    "name": "harness.map_values",
    "topology": "stream_map_values",
    "params": {"add": 1},
    "inputs": [{"topic": "input", "key": "a", "value": 1, "timestamp": 5},
               {"topic": "input", "key": None, "value": None, "timestamp": 3}],
}


@pytest.mark.parametrize("mutate", [
    lambda r: r["outputs"]["output"][1].update(value=3),
    lambda r: r["outputs"]["output"][0].update(timestamp=6),
    lambda r: r["outputs"]["output"][0].update(key=None),
    lambda r: r["outputs"]["output"].reverse(),
    lambda r: r["outputs"]["output"].pop(),
    lambda r: r["outputs"]["output"].append({"key": "b", "value": 0, "timestamp": 9}),
    lambda r: r["stores"]["store"].update(a=3),
    lambda r: r["stores"]["store"].update(b=1),
])
def test_every_kind_of_difference_is_detected(mutate: Any) -> None:
    actual = copy.deepcopy(RESULT)
    mutate(actual)
    assert differences(RESULT, actual)
    assert not differences(RESULT, copy.deepcopy(RESULT))


@pytest.mark.parametrize(("bad", "field"), [
    ({"topology": "x", "inputs": []}, "'name'"),
    ({"name": "n", "topology": "x", "inputs": {}}, "'inputs'"),
    ({"name": "n", "topology": "x", "inputs": [{"topic": "t", "key": 1, "timestamp": 0}]},
     "inputs[0].key"),
    ({"name": "n", "topology": "x", "inputs": [{"topic": "t", "timestamp": "0"}]},
     "inputs[0].timestamp"),
    # sizes the oracle would read as 0 (cache off) and streams_app as cache on
    ({"name": "n", "topology": "x", "inputs": [], "config": {"cache_max_bytes": "1024"}},
     "config.cache_max_bytes"),
    ({"name": "n", "topology": "x", "inputs": [], "config": {"cache_max_bytes": 1e7}},
     "config.cache_max_bytes"),
    ({"name": "n", "topology": "x", "inputs": [],
      "config": {"streams": {"statestore.cache.max.bytes": 0}}}, "config.streams"),
])
def test_bad_scenarios_name_the_field(tmp_path: Path, bad: dict[str, Any], field: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ScenarioError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_file(path)


@pytest.mark.parametrize(("config", "size"), [
    ({}, 0), ({"cache_max_bytes": 1024}, 1024),
    ({"cache_max_bytes": 1024, "streams": {"statestore.cache.max.bytes": "0"}}, 0),
    ({"streams": {"statestore.cache.max.bytes": "2048"}}, 2048),
])
def test_cache_size_is_read_as_the_oracle_reads_it(config: dict[str, Any], size: int) -> None:
    # the raw property is applied last by the oracle, so it overrides cache_max_bytes
    assert cache_max_bytes({**SCENARIO, "config": config}) == size


def test_duplicate_names_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(SCENARIO) + "\n" + json.dumps(SCENARIO) + "\n")
    with pytest.raises(ScenarioError, match="already used"):
        load_folder(tmp_path)


def test_oracle_reports_errors_naming_the_problem(oracle: Oracle) -> None:
    unknown = oracle.run({**SCENARIO, "topology": "no_such_topology"})
    assert "unknown topology 'no_such_topology'" in unknown["error"]
    bad_param = oracle.run({**SCENARIO, "params": {"add": "one"}})
    assert "param 'add'" in bad_param["error"]
    # The oracle keeps serving after errors.
    assert oracle.run(SCENARIO)["outputs"]["output"][0] == {"key": "a", "value": 2,
                                                            "timestamp": 5}


def test_a_wrong_streams_app_topology_is_caught(oracle: Oracle,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    expected = oracle.run(SCENARIO)
    wanted = {"stores": [], "window_stores": []}
    assert not differences(expected, engine.run(SCENARIO, wanted))
    monkeypatch.setitem(catalogue.CATALOGUE, "stream_map_values",
                        lambda p: catalogue.CATALOGUE["stream_filter"]({"min": -100}))
    assert differences(expected, engine.run(SCENARIO, wanted))


def test_absent_topology_is_missing_not_passed() -> None:
    with pytest.raises(engine.Missing, match="not in conformance/catalogue.py"):
        engine.build({"topology": "no_such_topology", "params": {}})


def test_report_ends_with_the_total_line() -> None:
    verdicts = [Verdict("a", "stream_filter", "stream", IDENTICAL),
                Verdict("b", "window_session", "windows", MISSING, "no SessionWindows"),
                Verdict("c", "stream_map", "stream", DIFFERENT, "record 0")]
    text = render(verdicts, "scenarios")
    assert text.rstrip().splitlines()[-1] == total_line(verdicts)
    assert total_line(verdicts) == "total: 3 scenarios, 1 identical, 1 different, 1 missing"


def test_found_scenarios_are_saved_loadable(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_differential, "FOUND", tmp_path)
    path = test_differential.save_found("stream", SCENARIO, RESULT)
    [saved] = load_file(Path(path))
    assert saved["inputs"] == SCENARIO["inputs"]
    assert saved["expected"]["outputs"] == RESULT["outputs"]
