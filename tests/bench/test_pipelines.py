"""The harness's expected results, incremental sessions, verification and report shape."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

from bench.common import CONTESTANTS, PIPELINES, SESSION_GAP_MS, RunResult
from bench.data import MAX_LATE_MS, ride_events, zone_boroughs
from bench.pipelines import Sessions, expected, session_key, window_key
from bench.report import KEPT_MARKER, render_markdown, shape, table, write_markdown
from bench.run import verify


def test_window_key_aligns_to_the_minute() -> None:
    assert window_key(7, 120_000) == "7@120000"
    assert window_key(7, 179_999) == "7@120000"
    assert window_key(7, 180_000) == "7@180000"


def test_sessions_split_on_gaps_longer_than_the_inactivity_gap() -> None:
    gap = SESSION_GAP_MS
    events = [(1, 0), (1, gap), (1, 3 * gap), (2, 5)]  # gap exactly: same session
    assert expected("session", events, {}) == {
        session_key(1, 0, gap): 2, session_key(1, 3 * gap, 3 * gap): 1, session_key(2, 5, 5): 1,
    }


def test_incremental_sessions_match_the_offline_result_in_any_order() -> None:
    rng = random.Random(3)
    events = [(rng.randrange(3), rng.randrange(20 * SESSION_GAP_MS)) for _ in range(400)]
    want = expected("session", events, {})
    for _ in range(5):
        rng.shuffle(events)
        sessions = Sessions()
        for zone, ts in events:
            sessions.add(zone, ts)
        assert sessions.results() == want
    assert sum(want.values()) == len(events)


def test_every_pipeline_counts_each_record_once() -> None:
    events = [(z, ts) for z, ts, _, _ in ride_events(2000, seed=1)]
    boroughs = zone_boroughs()
    for pipeline in PIPELINES:
        assert sum(expected(pipeline, events, boroughs).values()) == 2000, pipeline
    assert len(expected("zone_join", events, boroughs)) <= len(set(boroughs.values()))


def test_generator_is_deterministic_keyed_and_boundedly_out_of_order() -> None:
    first = list(ride_events(3000, seed=5))
    assert first == list(ride_events(3000, seed=5))
    assert all(key == str(zone).encode() for zone, _, key, _ in first)
    stamps = [ts for _, ts, _, _ in first]
    late = [i for i in range(1, len(stamps)) if stamps[i] < stamps[i - 1]]
    assert late, "some records must arrive out of order"
    running_max = 0
    for ts in stamps:
        running_max = max(running_max, ts)
        assert running_max - ts <= MAX_LATE_MS + 1000  # grace 60 s never drops a record
    assert len({zone for zone, *_ in first}) > 100


def test_verify_names_the_differing_results() -> None:
    ok = RunResult("ok", results={"1": 2, "2": 3})
    assert verify(ok, {"1": 2, "2": 3}) == ""
    problem = verify(RunResult("ok", results={"1": 2}), {"1": 2, "2": 3})
    assert "1 of 2" in problem and "2: got None want 3" in problem


def test_report_shape_lists_every_pipeline_and_contestant() -> None:
    figures = {
        "count": {
            "aiokafka": {"verified": True, "status": "ok", "records_per_s": 100.0,
                         "peak_rss_mb": 50.0, "p50_ms": 1.0, "p99_ms": 2.0, "join_s": 0.1},
            "faust": {"verified": False, "status": "failed", "detail": "wrong"},
            "quixstreams": {"verified": True, "status": "ok", "records_per_s": 50.0,
                            "peak_rss_mb": 90.0, "join_s": 0.2},
        },
    }
    pipelines = shape(figures)
    assert list(pipelines) == list(PIPELINES)
    for rows in pipelines.values():
        assert list(rows) == list(CONTESTANTS)
        for row in rows.values():
            assert set(row) == {"records_per_s", "p50_ms", "p99_ms", "peak_rss_mb", "verified"}
    assert pipelines["count"]["aiokafka"]["records_per_s"] == 100.0
    assert pipelines["count"]["faust"] == {"records_per_s": None, "p50_ms": None,
                                           "p99_ms": None, "peak_rss_mb": None,
                                           "verified": False}
    assert pipelines["session"]["streams_app"]["verified"] == "missing"
    doc = {"pipelines": pipelines, "date": "2026-01-01T00:00:00+00:00",
           "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "os": "linux"},
           "versions": {"kafka_broker": "4.3.0"}}
    details = {"settings": {"records": 10, "runs": 1, "quick": True},
               "ratios": {"count": {"aiokafka": {"vs_quixstreams": 2.0}}}, "figures": figures}
    md = render_markdown(doc, details)
    assert "| count | aiokafka | 100 | - | 2.00 |" in md
    assert "count / faust: wrong" in md
    assert "aiokafka" in table(doc)


def test_run_options_fail_naming_the_setting() -> None:
    import pytest

    from bench.run import _parse

    with pytest.raises(SystemExit):
        _parse(["--contestants", "spark"])
    args = _parse(["--quick"])
    assert (args.records, args.runs) == (50_000, 1)
    assert SimpleNamespace(**vars(args)).contestants == list(CONTESTANTS)


def test_side_benchmark_notes(tmp_path) -> None:
    import json

    from bench.report import notes

    assert notes(tmp_path) == []
    (tmp_path / "dashboard_overhead.json").write_text(json.dumps({
        "records": 300_000, "runs": {"open": [1.0, 2.0, 3.0], "none": [1.0, 2.0, 3.0]},
        "median_open": 98_000.0, "median_none": 100_000.0, "ratio_open_none": 0.98}))
    (tmp_path / "dashboard_overhead_micro.json").write_text(json.dumps({
        "snapshot_us": 24.0, "snapshot_bytes": 5287, "http_request_us": 300.0,
        "core_share_per_tab": 0.0003}))
    lines = notes(tmp_path)
    assert "98,000 rec/s against 100,000 rec/s with none, open/none = 0.980" in lines[0]
    assert "median of 3 alternating runs" in lines[0]
    assert "24 µs" in lines[1] and "300 µs" in lines[1] and "0.030% of a core" in lines[1]
    doc = {"pipelines": {}, "date": "2026-01-01T00:00:00+00:00",
           "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "os": "linux"},
           "versions": {"kafka_broker": "4.3.0"}}
    details = {"settings": {"records": 10, "runs": 1, "quick": True}, "ratios": {},
               "figures": {}}
    assert "## Notes\n\n" + lines[0] in render_markdown(doc, details, lines)
def test_a_rerender_keeps_the_hand_kept_part(tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    write_markdown(md, "# Benchmarks\n\nold table\n")
    assert md.read_text() == "# Benchmarks\n\nold table\n"  # nothing kept yet
    md.write_text(md.read_text() + f"\n{KEPT_MARKER}\n\n## Profiles\n\nby hand\n")
    write_markdown(md, "# Benchmarks\n\nnew table\n")
    kept = f"{KEPT_MARKER}\n\n## Profiles\n\nby hand\n"
    assert md.read_text() == f"# Benchmarks\n\nnew table\n\n{kept}"
