"""The scale-out series' section of BENCHMARKS.md (bench.scale_report) and its options."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from aiokafka.partitioner import DefaultPartitioner

from bench import report, scale_report
from bench.data import ZIPF_S, ride_events
from bench.scale import CpuSampler, _parse

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
                            {"records": {"1": 140_000}}]},
        ],
        "kafka_streams": [{"workers": 1, "error": "timed out after 600 s"}],
    },
}


def test_the_section_gives_rates_against_one_worker_and_cpu_per_worker() -> None:
    md = "\n".join(scale_report.section(SCALE, "bench/results/scale.png"))
    assert ("| streams_app | 2 | 90,000 | 1.80 | 55,000 | 1.9 (2.8), 1.7 (2.7) "
            "| 3.6 / 1.2 / 0.1 / 0.0 / 0.4 | 53% (p0+2), 47% (p1) |") in md
    assert "| streams_app | 1 | 50,000 | 1.00 | 60,000 | 5.0 | - | - |" in md  # older result
    assert "| kafka_streams | 1 | failed | - | - | - | - | - |" in md
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
