"""The runtime conformance harness without a broker: topic renaming, input runs, the reduced
set, how differences are explained, and the report."""

from __future__ import annotations

import copy

from conformance import engine, runtime_report
from conformance.compare import DIFFERENT, IDENTICAL
from conformance.families import TOPOLOGIES
from conformance.runtime_engine import feeds_back, rename_user_topics, segments
from conformance.runtime_report import WALL_CLOCK, RuntimeVerdict, runtime_conditions
from conformance.scenarios import CORPUS, cache_max_bytes, load_folder

CORPUS_SCENARIOS = load_folder(CORPUS)


def _first(pred) -> dict:
    return next(s for s in CORPUS_SCENARIOS if pred(s))


def test_segments_are_runs_of_one_topic_without_clock_advances() -> None:
    rec = [{"topic": t, "key": "a", "value": 1, "timestamp": i} for i, t in enumerate("llrrl")]
    s = {"inputs": [rec[0], rec[1], {"advance_wall_clock_ms": 5}, rec[2], rec[3], rec[4]]}
    assert segments(s) == [rec[:2], rec[2:4], rec[4:]]
    assert segments(s, per_record=True) == [[r] for r in rec]


def test_only_internal_topics_read_beside_others_feed_back() -> None:
    def topology(name: str):
        return engine.build({"topology": name, "params": {}}).topology

    assert feeds_back(topology("join_foreign_key"))  # subscription and response topics
    for name in ("group_by_count", "stream_merge", "join_stream_globaltable"):
        assert not feeds_back(topology(name)), name


def test_user_topics_are_prefixed_and_internal_ones_kept() -> None:
    topology = engine.build({"topology": "group_by_count", "params": {}}).topology
    internal = set(topology.internal_topics)
    assert internal
    rename_user_topics(topology, "p-")
    assert set(topology.source_topics()) == {"p-input"} | internal
    sinks = {t for sub in topology.subtopologies() for t in sub.sink_topics}
    assert sinks == {"p-output"} | internal

    glob = engine.build({"topology": "join_stream_globaltable", "params": {}}).topology
    rename_user_topics(glob, "q-")
    assert glob.stores["right-store"].source_topic == "q-right"
    assert glob.source_topics() == ["q-left"]


def test_reduced_set_covers_every_topology_once_with_the_cache_off() -> None:
    chosen = runtime_report.reduced(CORPUS_SCENARIOS)
    assert sorted(s["topology"] for s in chosen) == sorted(TOPOLOGIES)
    assert not any(cache_max_bytes(s) for s in chosen)


def _wanted(s: dict) -> dict:
    return {k: list(v) for k, v in s["expected"].items() if k != "outputs"}


def test_a_difference_is_explained_only_when_the_driver_agrees_under_runtime_conditions() -> None:
    clocked = _first(lambda s: any("advance_wall_clock_ms" in e for e in s["inputs"])
                     and not cache_max_bytes(s))
    same = engine.run(runtime_conditions(clocked), _wanted(clocked))
    assert runtime_report._reason(clocked, same) == WALL_CLOCK
    other = copy.deepcopy(same)
    other["outputs"]["output"].append({"key": "zz", "value": 1, "timestamp": 0})
    assert runtime_report._reason(clocked, other) == ""

    # the runtime runs the record cache as the scenario sets it: no excuse
    cached = _first(lambda s: cache_max_bytes(s)
                    and not any("advance_wall_clock_ms" in e for e in s["inputs"]))
    assert runtime_conditions(cached)["config"] == cached["config"]
    off = engine.run({**cached, "config": {}}, _wanted(cached))
    assert runtime_report._reason(cached, off) == ""

    plain = _first(lambda s: not s.get("config") and not any(
        "advance_wall_clock_ms" in e for e in s["inputs"]))
    assert runtime_report._reason(plain, engine.run(plain, _wanted(plain))) == ""


def test_report_tags_differences_and_ends_with_the_total_line() -> None:
    verdicts = [RuntimeVerdict("a", "stream_map", "stream", IDENTICAL),
                RuntimeVerdict("b", "window_session", "windows", DIFFERENT, "x", WALL_CLOCK),
                RuntimeVerdict("c", "window_session", "windows", DIFFERENT, "y")]
    text = runtime_report.render(verdicts, 12.0, full=True)
    assert "- `b`: [wall-clock] x" in text and "- `c`: [UNEXPLAINED] y" in text
    assert "Differences by class: unexplained 1, wall-clock 1." in text
    assert text.endswith("total: 3 scenarios, 1 identical, 2 different, 0 missing\n")
    assert [v.name for v in verdicts if runtime_report.is_unexplained(v)] == ["c"]
