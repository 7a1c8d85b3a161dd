"""The scale-out series (bench.scale) as a BENCHMARKS.md section, a chart and a text table."""

from __future__ import annotations

from pathlib import Path

LABELS = {"streams_app": "streams_app (processes)", "kafka_streams": "Kafka Streams (threads)"}


def _ok(series: list[dict]) -> list[dict]:
    return [f for f in series if "error" not in f]


def _cpu(f: dict) -> str:
    """CPU s per worker during the run, the whole process's in brackets (older results: the
    whole process's only)."""
    if "run_cpu_s" not in f:
        return ", ".join(f"{c:.1f}" for c in f["worker_cpu_s"])
    return ", ".join(f"{r:.1f} ({c:.1f})" for r, c in zip(f["run_cpu_s"], f["worker_cpu_s"],
                                                          strict=True))


BUDGET = ("workers", "brokers", "harness", "supervisor", "rest")


def _budget(f: dict) -> str:
    """CPU seconds of the run by who spent them, as ``workers / brokers / harness /
    supervisor / rest`` (rest: other jobs on the machine)."""
    b = f.get("budget_cpu_s")
    return " / ".join(f"{b.get(k, 0.0):.1f}" for k in BUDGET) if b else "-"


def _split(f: dict) -> str:
    """Each streams_app worker's share of the records and its partitions."""
    ws = f.get("assignment") or []
    total = sum(sum(w["records"].values()) for w in ws)
    if not total:
        return "-"
    return ", ".join(f"{sum(w['records'].values()) / total:.0%} "
                     f"(p{'+'.join(sorted(w['records'], key=int))})" for w in ws)


def _runs(f: dict) -> str:
    """records/s of each run of a point (``--rounds``), and failed runs."""
    rates = f.get("runs_records_per_s")
    if not rates:
        return "-"
    failed = f" ({f['failed_runs']} failed)" if f.get("failed_runs") else ""
    return ", ".join(f"{r:,.0f}" for r in rates) + failed


def table(doc: dict) -> str:
    """Plain-text table of ``scale.json``."""
    lines = [f"{'contestant':<15}{'workers':>8}{'rec/s':>12}{'x one':>7}{'rec/cpu-s':>11}"
             "  CPU s per worker | budget " + "/".join(BUDGET)]
    for name, series in doc["series"].items():
        base = next((f["records_per_s"] for f in _ok(series) if f["workers"] == 1), None)
        for f in series:
            if "error" in f:
                lines.append(f"{name:<15}{f['workers']:>8}  failed: {f['error'][:60]}")
                continue
            ratio = f"{f['records_per_s'] / base:.2f}" if base else "-"
            lines.append(f"{name:<15}{f['workers']:>8}{f['records_per_s']:>12,.0f}{ratio:>7}"
                         f"{f['records_per_cpu_s']:>11,.0f}  " + _cpu(f) + " | "
                         + _budget(f) + " | " + _split(f))
    return "\n".join(lines)


def section(doc: dict, chart_path: str) -> list[str]:
    """Markdown lines of the scale-out section."""
    out = [
        "## Scale-out",
        "",
        f"The count pipeline over {doc['records']:,} rides in one {doc['partitions']}-partition "
        f"topic (replication {doc['replication']}) on a local {doc['brokers']}-broker cluster, "
        f"{doc['cores']} cores, {doc['date']}: streams_app as N worker processes of one job "
        "(`streams-app job bench.scale_job --processes N`, one consumer group) against Kafka "
        "Streams as one instance with N stream threads. records/s: first record consumed to "
        "the group's committed offsets covering the topic, by the contestant's own clock "
        "(streams_app: its last worker's commit of its partitions' ends returned; Kafka "
        "Streams: its results covered the input, in the commit that flushes its cache), "
        "checked by the harness polling the group's offsets every 0.2 s (the poll's time "
        "stands where a contestant has no stamp; a poll adds up to 0.2 s, a tenth of a 2 s "
        "run). "
        "CPU s: user + system seconds of each worker process (Kafka Streams: the one JVM, all "
        "its threads) from the run's first record to its end, sampled every 0.2 s, and in "
        "brackets the whole process's, start-up included; rec/cpu-s: records per CPU second "
        "the workers used during the run, the per-core figure. x one: records/s against the "
        "same contestant with one worker.",
        "",
        "Set-up: the brokers run with Kafka's default `group.initial.rebalance.delay.ms` of "
        "3 s, which Kafka's sample `config/server.properties` recommends for production (it sets "
        "0 there for development only, as the project's test brokers do): the workers started "
        "together join one generation instead of the first one consuming alone until the "
        "second's join pauses both. "
        + ("Every partition holds 1/8 of the rides (shares "
           + ", ".join(f"{v:.1%}" for v in doc.get("partition_shares", {}).values())
           + "): consumer-group assignors balance partitions, not records, and a run ends when "
           "its busiest worker does. The zones' weights are scaled per partition (murmur2 of "
           "the key, as producers write them) so each partition draws the same share; "
           "uniform zones left one partition with 16% and another with 11%, and a 4 + 4 split "
           "up to 55% / 45%, and the main benchmark's popularity skew puts 37% in one "
           "partition. Both contestants read the same topic. " if doc.get("balanced") else
           "The zones are drawn uniformly (`--zipf 0`); each partition holds 11-16%. "
           if doc.get("zipf_s") == 0 else
           f"Zone popularity exponent {doc['zipf_s']}. " if "zipf_s" in doc else "")
        + ("An untimed raw-consumer pass over the topic precedes the runs, as in the main "
           "benchmark. " if doc.get("brokers_idle_cores") is not None else "")
        + ("The brokers' JIT stops at C1 (`-XX:TieredStopAtLevel=1`, `--broker-jit c1`): a "
           "production broker compiled its hot paths long before a job starts, these are a "
           "minute old, and with the JVM's full tiered JIT their C2 compiler threads still "
           "used 0.1-0.9 of the 2 cores two minutes into a series (2026-12-01: 1.1 of the "
           "brokers' 1.7 CPU s in one 2-process run, and 2.4 CPU s of brokers in the first "
           "2-process run against 1.0 in the later ones). That CPU came out of the workers' "
           "share, so the series measured the brokers' warm-up. C1 alone compiles within "
           "seconds and then stays quiet; both contestants meet the same brokers. "
           "(`--broker-jit tiered` runs the series with the JVM's default.) "
           if doc.get("broker_jit") == "c1" else "")
        + (f"Both contestants' consumers fetch up to {doc['fetch_bytes'] // 1024 ** 2} MiB per "
           "partition (`max.partition.fetch.bytes`; Kafka's default is 1 MiB, the main "
           "benchmark's raw aiokafka loop fetches 4 MiB): the brokers serve every fetch request "
           "on the workers' cores, and 2 workers' requests carry half the partitions each; at "
           "4 MiB the brokers spent 0.5 CPU s per 2-process run instead of 0.7-0.9 "
           "(2026-12-01, 4 rounds each). " if doc.get("fetch_bytes") else "")
        + (f"The series ran {doc['rounds']} times round-robin (1, 2, 4 workers, each "
           "contestant in turn); each row is the median run by records/s, every run's "
           "records/s in the last column. " if doc.get("rounds", 1) > 1 else "")
        + (f"Brokers' extra JVM flags: {' '.join(doc['broker_jvm'])}. "
           if doc.get("broker_jvm") else "")
        + "Each worker commits as soon as it has processed its partitions to their end, as "
        "Kafka Streams' contestant requests a commit at the end of its input.",
        "",
        f"With {doc['cores']} cores the curve flattens past {doc['cores']} workers: 4 "
        "processes or threads share the cores with each other and with the 3 brokers, so the "
        "per-core figure (rec/cpu-s) is the one to compare: where it holds as workers are "
        "added, they split the work without overhead, and records/s is what the cores the "
        "brokers leave allow. The budget bounds the speed-up: with w CPU seconds per record "
        "in the workers and b in the brokers, 2 cores carry at most 2 / (w + b) records/s "
        "while one worker, keeping one core busy, does 1 / w, so 2 workers reach at most "
        "2w / (w + b) of one: 1.7x needs the brokers to stay under ~18% of the workers' CPU. "
        "A second machine (or cores not shared with the brokers) is where process scale-out "
        "shows fully."
        + (f" Load average (1 min) at the start and end of the run: {doc['load_avg'][0]} and "
           f"{doc['load_avg'][1]} on {doc['cores']} cores (a shared machine: other jobs ran "
           "meanwhile, so the wall-clock figures are noisy)." if doc.get("load_avg") else ""),
        "",
        "CPU budget: CPU seconds from the run's first record to its end spent by the "
        "workers, the 3 brokers' JVMs, this harness (its offset polls every 0.2 s and the "
        "sampling), the streams_app supervisor (relaying output), and the rest of the machine "
        "(other jobs; the total is the machine's busy time from /proc/stat). "
        + (f"The brokers use {doc['brokers_idle_cores']:.2f} cores with no client working. "
           if doc.get("brokers_idle_cores") is not None else "")
        + "Records per worker: each worker's share of the records and its partitions. "
        "`scale.json` also holds each worker's idle seconds (the run's length less its CPU) "
        "and its first and last record's times.",
        "",
        f"![scale-out]({chart_path})",
        "",
        "| contestant | workers | records/s | x one | rec/cpu-s | CPU s per worker "
        "| CPU s: workers / brokers / harness / supervisor / rest | records per worker "
        "| records/s of each run |",
        "|---|---:|---:|---:|---:|---|---|---|---|",
    ]
    for name, series in doc["series"].items():
        base = next((f["records_per_s"] for f in _ok(series) if f["workers"] == 1), None)
        for f in series:
            if "error" in f:
                out.append(f"| {name} | {f['workers']} | failed | - | - | - | - | - | - |")
                continue
            ratio = f"{f['records_per_s'] / base:.2f}" if base else "-"
            out.append(f"| {name} | {f['workers']} | {f['records_per_s']:,.0f} | {ratio} "
                       f"| {f['records_per_cpu_s']:,.0f} | {_cpu(f)} | {_budget(f)} "
                       f"| {_split(f)} | {_runs(f)} |")
    out += [""]
    return out


def chart(doc: dict, path: Path) -> None:
    """records/s against workers, one line per contestant, and records per CPU second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, series in doc["series"].items():
        ok = _ok(series)
        xs = [f["workers"] for f in ok]
        ax.plot(xs, [f["records_per_s"] for f in ok], marker="o", label=LABELS.get(name, name))
        ax2.plot(xs, [f["records_per_cpu_s"] for f in ok], marker="o",
                 label=LABELS.get(name, name))
    for a, title in ((ax, "records/s"), (ax2, "records per CPU second")):
        a.set_xlabel("workers (processes / stream threads)")
        a.set_xticks(sorted({f["workers"] for s in doc["series"].values() for f in s}))
        a.set_ylim(bottom=0)
        a.set_title(title)
        a.axvline(doc["cores"], color="grey", linestyle=":", linewidth=1)
        a.legend(fontsize=8)
    fig.suptitle(f"Scale-out, count, {doc['records']:,} records, {doc['partitions']} partitions, "
                 f"{doc['cores']} cores (dotted: core count)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
