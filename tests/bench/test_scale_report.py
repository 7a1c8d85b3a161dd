"""The scale-out series' section of BENCHMARKS.md (bench.scale_report) and its options."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

from bench import report, scale_report
from bench.data import ZIPF_S, ride_events
from bench.scale import BROKER_JIT_FLAGS, CpuSampler, _median, _parse

SCALE = {
    "records": 300_000, "partitions": 8, "brokers": 3, "replication": 3, "cores": 2,
    "date": "2026-11-30T15:00:00Z",
    "series": {
        "streams_app": [
            {"workers": 1, "records_per_s": 50_000.0, "records_per_cpu_s": 60_000.0,
             "worker_cpu_s": [5.0]},
            {"workers": 2, "records_per_s": 90_000.0, "records_per_cpu_s": 55_000.0,
             "worker_cpu_s": [2.8, 2.7], "run_cpu_s": [1.9, 1.7],
             "budget_cpu_s": {"workers": 3.6, "brokers": 1.2, "harness": 0.1,
                              "supervisor": 0.0, "rest": 0.4},
             "assignment": [{"records": {"0": 110_000, "2": 50_000}},
                            {"records": {"1": 140_000}}],
             "runs_records_per_s": [80_000, 90_000, 95_000]},
        ],
        "kafka_streams": [{"workers": 1, "error": "timed out after 600 s"}],
    },
}


def test_the_section_gives_rates_against_one_worker_and_cpu_per_worker() -> None:
    md = "\n".join(scale_report.section(SCALE, "bench/results/scale.png"))
    assert ("| streams_app | 2 | 90,000 | 1.80 | 55,000 | 1.9 (2.8), 1.7 (2.7) "
            "| 3.6 / 1.2 / 0.1 / 0.0 / 0.4 | 53% (p0+2), 47% (p1) | 80,000, 90,000, 95,000 |") in md
    assert "| streams_app | 1 | 50,000 | 1.00 | 60,000 | 5.0 | - | - | - |" in md  # older
    assert "| kafka_streams | 1 | failed | - | - | - | - | - | - |" in md
    assert "1.80" in scale_report.table(SCALE)


def test_a_rerun_of_the_main_benchmark_keeps_the_scale_section(tmp_path: Path) -> None:
    pipelines = report.shape({})
    (tmp_path / "latest.json").write_text(json.dumps({
        "pipelines": pipelines, "date": "2026-01-01T00:00:00+00:00",
        "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "os": "linux"},
        "versions": {"kafka_broker": "4.4.0"}}))
    (tmp_path / "details.json").write_text(json.dumps({
        "settings": {"records": 10, "runs": 1, "quick": True}, "ratios": {}, "figures": {}}))
    md = tmp_path / "BENCHMARKS.md"
    report.rerender(tmp_path, md)
    assert "## Scale-out" not in md.read_text()
    (tmp_path / "scale.json").write_text(json.dumps(SCALE))
    report.rerender(tmp_path, md)
    assert "| streams_app | 1 | 50,000 | 1.00 |" in md.read_text()


def test_scale_options_are_checked() -> None:
    with pytest.raises(SystemExit):
        _parse(["--contestants", "faust"])
    assert _parse([]).workers == [1, 2, 4]


def test_run_cpu_leaves_out_what_each_process_used_before_the_first_record() -> None:
    cpu = CpuSampler()
    cpu.history = [(10.0, {1: 2.0}), (11.0, {1: 2.5, 2: 1.0}), (12.0, {1: 4.0, 2: 3.0})]
    cpu.cpu = {1: 4.0, 2: 3.0}
    assert cpu.since(11.5) == {1: 1.5, 2: 2.0}
    assert cpu.since(9.0) == {1: 4.0, 2: 3.0}  # nothing sampled before: all of it


def test_scale_options_take_broker_settings() -> None:
    a = _parse(["--broker-config", "group.initial.rebalance.delay.ms=0"])
    assert a.broker_config == {"group.initial.rebalance.delay.ms": "0"}
    with pytest.raises(SystemExit):
        _parse(["--broker-config", "no-value"])


def test_the_scale_topic_draws_zones_uniformly_unless_told() -> None:
    def top_share(zipf_s: float) -> float:
        zones = Counter(z for z, _, _, _ in ride_events(5000, zipf_s=zipf_s))
        return zones.most_common(1)[0][1] / 5000

    assert _parse([]).zipf == 0.0
    assert top_share(0.0) < 0.02 < 0.2 < top_share(ZIPF_S)


def test_the_scale_topic_holds_an_eighth_of_the_rides_in_each_partition() -> None:
    parts = list(range(8))
    partitioner = DefaultPartitioner()

    def shares(balance: int) -> list[float]:
        n = Counter(partitioner(k, parts, parts)
                    for _, _, k, _ in ride_events(40_000, zipf_s=0.0, balance_partitions=balance))
        return [n[p] / 40_000 for p in parts]

    assert _parse([]).balanced and not _parse(["--unbalanced"]).balanced
    assert max(shares(0)) > 0.15  # murmur2 alone: one partition far over 1/8
    assert all(abs(s - 0.125) < 0.006 for s in shares(8))


def test_variants_are_streams_app_contestants_with_their_environment() -> None:
    a = _parse(["--contestants", "streams_app", "--variant", "f4m:A=1,B=2"])
    assert a.contestants == ["streams_app", "streams_app:f4m"]
    assert a.variants == {"streams_app:f4m": {"A": "1", "B": "2"}}
    with pytest.raises(SystemExit):
        _parse(["--variant", "no-settings"])


def test_each_point_is_the_median_run_with_every_run_beside_it() -> None:
    runs = [{"workers": 2, "records_per_s": r, "tag": r} for r in (300.0, 100.0, 200.0)]
    point = _median([*runs, {"workers": 2, "error": "timed out"}])
    assert point["tag"] == 200.0
    assert point["runs_records_per_s"] == [300, 100, 200] and point["failed_runs"] == 1
    assert _median(runs[:2])["tag"] == 100.0  # even count: the lower middle
    assert "error" in _median([{"workers": 1, "error": "x"}])


def test_the_series_runs_three_rounds_on_c1_brokers_unless_told() -> None:
    a = _parse([])
    assert (a.rounds, BROKER_JIT_FLAGS[a.broker_jit]) == (3, ["-XX:TieredStopAtLevel=1"])
    assert BROKER_JIT_FLAGS[_parse(["--broker-jit", "tiered"]).broker_jit] == []
    with pytest.raises(SystemExit):
        _parse(["--rounds", "0"])


def test_what_was_said_by_hand_about_a_run_survives_a_rerender(tmp_path: Path) -> None:
    figures = {"session": {"quixstreams": {"status": "failed", "detail": "x\n5 results differ"}}}
    (tmp_path / "latest.json").write_text(json.dumps({
        "pipelines": report.shape({}), "date": "2026-01-01T00:00:00+00:00",
        "machine": {"cpu": "x", "cores": 2, "memory_gib": 1, "os": "linux"},
        "versions": {"kafka_broker": "4.4.0"}}))
    details = {"settings": {"records": 10, "runs": 1, "quick": True}, "ratios": {},
               "figures": figures}
    (tmp_path / "details.json").write_text(json.dumps(details))
    md = tmp_path / "BENCHMARKS.md"
    report.rerender(tmp_path, md)
    assert "- session / quixstreams: 5 results differ" in md.read_text()
    details["notes"] = {"session / quixstreams": "stopped by hand", "faust": "not run"}
    (tmp_path / "details.json").write_text(json.dumps(details))
    report.rerender(tmp_path, md)
    text = md.read_text()
    assert "- faust: not run\n- session / quixstreams: stopped by hand" in text
    assert "results differ" not in text
