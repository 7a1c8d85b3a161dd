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
        "the group's committed offsets covering the topic (polled the same way for both). "
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
           "benchmark: the brokers run with the full JIT, and their compiler threads (C1 and "
           "C2) used about half of the brokers' CPU over a whole series on this machine "
           "(2026-11-30: 43 of ~90 CPU s), most of it early; without the pass the first timed "
           "run, one worker's, would carry the most of it. "
           if doc.get("brokers_idle_cores") is not None else "")
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
        "in the workers and b in the brokers, 2 cores carry at most 2 / (w + b) records/s, so "
        "where one worker already keeps a core busy (idle near 0 s) and the brokers need a "
        "third of a core more, 2 workers cannot approach 2x on this machine; a second "
        "machine (or cores not shared with the brokers) is where process scale-out shows."
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
        "| CPU s: workers / brokers / harness / supervisor / rest | records per worker |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for name, series in doc["series"].items():
        base = next((f["records_per_s"] for f in _ok(series) if f["workers"] == 1), None)
        for f in series:
            if "error" in f:
                out.append(f"| {name} | {f['workers']} | failed | - | - | - | - | - |")
                continue
            ratio = f"{f['records_per_s'] / base:.2f}" if base else "-"
            out.append(f"| {name} | {f['workers']} | {f['records_per_s']:,.0f} | {ratio} "
                       f"| {f['records_per_cpu_s']:,.0f} | {_cpu(f)} | {_budget(f)} "
                       f"| {_split(f)} |")
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
