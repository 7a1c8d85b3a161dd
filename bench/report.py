"""Turn the figures into ``latest.json``, ``details.json``, ``BENCHMARKS.md`` and a PNG chart."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from bench import scale_report
from bench.common import CONTESTANTS, PIPELINES

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
MARKDOWN = ROOT / "BENCHMARKS.md"
FIGURES = ("records_per_s", "p50_ms", "p99_ms", "peak_rss_mb", "verified")
BASELINES = ("faust", "quixstreams")
# BENCHMARKS.md from this line on is kept by hand (profiles, notes): a re-render keeps it.
KEPT_MARKER = "<!-- hand-kept from here on: make bench and bench.report keep this part -->"


def write_markdown(markdown: Path, generated: str) -> None:
    """Write ``generated`` to ``markdown``, keeping its hand-kept part (from KEPT_MARKER)."""
    old = markdown.read_text() if markdown.exists() else ""
    at = old.find(KEPT_MARKER)
    markdown.write_text(generated if at < 0 else generated.rstrip("\n") + "\n\n" + old[at:])


def shape(figures: dict) -> dict[str, dict[str, dict]]:
    """``{pipeline: {contestant: {records_per_s, p50_ms, p99_ms, peak_rss_mb, verified}}}``.

    Every pipeline and contestant is present; what did not run or lacks the pipeline is
    ``"missing"`` with null figures, a wrong result is ``false`` with null figures.
    """
    out: dict[str, dict[str, dict]] = {}
    for pipeline in PIPELINES:
        out[pipeline] = {}
        for name in CONTESTANTS:
            f = figures.get(pipeline, {}).get(name, {"verified": "missing"})
            row = {k: f.get(k) for k in FIGURES}
            row["verified"] = f.get("verified", "missing")
            out[pipeline][name] = row
    return out


def ratios(pipelines: dict[str, dict[str, dict]]) -> dict[str, dict[str, dict[str, float]]]:
    """records/s of each contestant divided by faust's and Quix Streams' in the same run."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for pipeline, rows in pipelines.items():
        for name, row in rows.items():
            for base in BASELINES:
                mine, theirs = row["records_per_s"], rows[base]["records_per_s"]
                if mine and theirs:
                    out.setdefault(pipeline, {}).setdefault(name, {})[f"vs_{base}"] = mine / theirs
    return out


def machine() -> dict[str, object]:
    """CPU model, cores, memory, OS."""
    cpu = platform.processor()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "os": platform.platform(), "python": platform.python_version()}


def versions() -> dict[str, str | None]:
    """Versions of everything that was measured."""
    from streams_app.kafka.broker import KAFKA_VERSION

    out: dict[str, str | None] = {}
    for dist in ("streams_app", "faust-streaming", "aiokafka", "quixstreams", "confluent-kafka",
                 "orjson", "rocksdict"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    out["kafka_broker"] = KAFKA_VERSION
    pom = (ROOT / "bench" / "kafka_streams" / "pom.xml").read_text()
    out["kafka_streams"] = pom.split("<kafka.version>", 1)[1].split("<", 1)[0]
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        out["java"] = java.stderr.splitlines()[0] if java.stderr else None
    except (OSError, subprocess.SubprocessError):
        out["java"] = None
    return out


def write_all(figures: dict, args: argparse.Namespace, results_dir: Path,
              markdown: Path) -> dict:
    """Write every output file; return the ``latest.json`` document."""
    results_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "pipelines": shape(figures),
        "machine": machine(),
        "versions": versions(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    (results_dir / "latest.json").write_text(json.dumps(doc, indent=2) + "\n")
    details = {
        "settings": {"records": args.records, "runs": args.runs, "quick": args.quick,
                     "latency_rate": 10_000, "latency_seconds": args.latency_seconds},
        "ratios": ratios(doc["pipelines"]),
        "figures": figures,
    }
    (results_dir / "details.json").write_text(json.dumps(details, indent=2) + "\n")
    chart(doc, results_dir / "chart.png")
    write_markdown(markdown, render_markdown(doc, details, notes(results_dir),
                                             scale=_scale(results_dir)))
    return doc


def _scale(results_dir: Path) -> dict | None:
    """The last scale-out series (bench.scale), kept across reruns of bench.run."""
    path = results_dir / "scale.json"
    return json.loads(path.read_text()) if path.exists() else None


def rerender(results_dir: Path = RESULTS_DIR, markdown: Path = MARKDOWN) -> dict:
    """BENCHMARKS.md and the chart again from the saved JSON; returns ``latest.json``."""
    doc = json.loads((results_dir / "latest.json").read_text())
    details = json.loads((results_dir / "details.json").read_text())
    for pipeline in PIPELINES:  # a contestant added since the run: shown as not run
        for name in CONTESTANTS:
            doc["pipelines"].setdefault(pipeline, {}).setdefault(
                name, {**dict.fromkeys(FIGURES), "verified": "missing"})
    chart(doc, results_dir / "chart.png")
    write_markdown(markdown, render_markdown(doc, details, notes(results_dir),
                                             scale=_scale(results_dir)))
    return doc


def _fmt(value: object, spec: str) -> str:
    if value is None:
        return "-"
    return format(value, spec)


def table(doc: dict) -> str:
    """Plain-text table of ``latest.json``."""
    lines = [f"{'pipeline':<15}{'contestant':<15}{'rec/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
             f"{'RSS MiB':>9}  verified"]
    for pipeline, rows in doc["pipelines"].items():
        for name, r in rows.items():
            lines.append(f"{pipeline:<15}{name:<15}{_fmt(r['records_per_s'], ',.0f'):>12}"
                         f"{_fmt(r['p50_ms'], '.1f'):>9}{_fmt(r['p99_ms'], '.1f'):>9}"
                         f"{_fmt(r['peak_rss_mb'], '.0f'):>9}  {r['verified']}")
    return "\n".join(lines)


def notes(results_dir: Path) -> list[str]:
    """The side benchmarks' figures saved in ``results_dir`` (one bullet each)."""
    out = []
    path = results_dir / "dashboard_overhead.json"
    if path.exists():
        d = json.loads(path.read_text())
        runs = len(d["runs"]["open"])
        every = [*d["runs"]["open"], *d["runs"]["none"]]
        out.append(
            f"- Dashboard overhead (`python -m bench.dashboard_overhead`): the count pipeline "
            f"with a dashboard client open (the event stream plus a `/api/status` poll every "
            f"second) ran at {d['median_open']:,.0f} rec/s against {d['median_none']:,.0f} "
            f"rec/s with none, open/none = {d['ratio_open_none']:.3f} ({d['records']:,} "
            f"records, median of {runs} alternating runs each, same worker settings and "
            f"broker; single runs ranged {min(every):,.0f}-{max(every):,.0f} rec/s, so the "
            f"difference is within the run-to-run noise of the machine).")
    path = results_dir / "dashboard_overhead_micro.json"
    if path.exists():
        d = json.loads(path.read_text())
        out.append(
            f"- Dashboard cost per update, without a broker's noise (`python -m "
            f"bench.dashboard_overhead --micro`): one status snapshot takes "
            f"{d['snapshot_us']:.0f} µs of CPU ({d['snapshot_bytes']:,} bytes of JSON), a "
            f"whole `/api/status` request over loopback HTTP {d['http_request_us']:.0f} µs "
            f"(client side included); at one update a second an open tab costs "
            f"{d['core_share_per_tab']:.3%} of a core.")
    return out


def render_markdown(doc: dict, details: dict, side_notes: list[str] | None = None,
                    scale: dict | None = None) -> str:
    """BENCHMARKS.md: settings, the table with ratios and join times, the side benchmarks'
    notes, how to reproduce."""
    s, rat, figs = details["settings"], details["ratios"], details["figures"]
    m, v = doc["machine"], doc["versions"]
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m bench.run`); do not edit by hand above the "
        "hand-kept sections at the end. Raw figures: "
        "`bench/results/latest.json`, per-run detail: `bench/results/details.json`.",
        "",
        f"{s['records']:,} rides in a 4-partition topic on one local Kafka {v['kafka_broker']} "
        f"broker (the JVM settings of Kafka's start scripts: 1 GiB fixed heap, G1 with a 20 ms "
        f"pause target); {s['runs']} run(s) per contestant, medians"
        f"{' (quick mode)' if s['quick'] else ''}."
        f" {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}. Date {doc['date']}.",
        "",
        "records/s: whole topic, first record consumed to last result committed (group join "
        "excluded, shown apart). Latency: count pipeline at a paced 10,000 rec/s, record "
        "creation to its updated count. Ratios are records/s against faust / Quix Streams in "
        "the same run. Results are verified against counts computed from the generated data; "
        "unverified runs get no figures.",
        "",
        "![chart](bench/results/chart.png)",
        "",
        "| pipeline | contestant | records/s | vs faust | vs quix | join s | p50 ms | p99 ms "
        "| peak RSS MiB | verified |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for pipeline, rows in doc["pipelines"].items():
        for name, r in rows.items():
            ra = rat.get(pipeline, {}).get(name, {})
            join = figs.get(pipeline, {}).get(name, {}).get("join_s")
            out.append(
                f"| {pipeline} | {name} | {_fmt(r['records_per_s'], ',.0f')} "
                f"| {_fmt(ra.get('vs_faust'), '.2f')} | {_fmt(ra.get('vs_quixstreams'), '.2f')} "
                f"| {_fmt(join, '.2f')} | {_fmt(r['p50_ms'], '.1f')} | {_fmt(r['p99_ms'], '.1f')} "
                f"| {_fmt(r['peak_rss_mb'], '.0f')} | {r['verified']} |"
            )
    # Said by hand about a run (a contestant stopped to fit a session, one left out), kept in
    # details.json so that a rerender (make bench-scale) keeps it: "pipeline / contestant", or
    # a contestant's name alone for one not run.
    said = details.get("notes", {})
    problems = [
        f"- {p} / {n}: " + said.get(f"{p} / {n}", f.get("detail", "").strip().splitlines()[-1]
                                     if f.get("detail") else "")
        for p, rows in figs.items() for n, f in rows.items() if f.get("status") != "ok"
    ]
    problems = [f"- {k}: {text}" for k, text in said.items() if " / " not in k] + problems
    if problems:
        out += ["", "Not measured:", "", *problems]
    if scale is not None:
        out += ["", *scale_report.section(scale, "bench/results/scale.png")]
    out += ["", "## How each contestant runs the pipelines", "", *_METHOD]
    if side_notes:
        out += ["", "## Notes", "", *side_notes]
    out += [
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench         # 1,000,000 records, 3 runs each (~1 h; a run over 120 s runs once, "
        "720 s is a timeout)",
        "make bench-quick   # 50,000 records, 1 run each (~4 min)",
        "python -m bench.run --records 300000 --runs 1 --pipelines count "
        "--contestants aiokafka,quixstreams",
        "```",
        "",
        "Needs Java 17 and Maven (the broker and the Kafka Streams contestant) and the `bench` "
        "extra (`pip install -e '.[bench]'`). Harness: `bench/` (contestants in "
        "`bench/contestants/`, Kafka Streams project in `bench/kafka_streams/`).",
        "",
    ]
    return "\n".join(out)


_METHOD = [
    "- Input: rides.csv scaled up, Zipf-like PULocationID popularity over 265 zones, Poisson "
    "pickup times (20/s of event time), 5% of records up to 30 s late; keyed by PULocationID, "
    "JSON values, Kafka timestamp = pickup time. Zones: taxi_zone_lookup.csv in a co-partitioned "
    "topic.",
    "- Every contestant consumes the same topic from the start with a fresh group id, in its "
    "own process, with default (at-least-once) guarantees. The topic is already keyed by zone, "
    "so count, windowed_count and session aggregate per record key (no repartition; Kafka "
    "Streams `groupByKey`); zone_join re-keys by borough (a repartition in every framework).",
    "- Order: one untimed raw-consumer pass over the topic first (the broker's JIT and page "
    "cache warm up), then per pipeline the runs go round-robin over the contestants, so no one "
    "meets the broker colder than the others. The latency test's small requests take other "
    "paths through the broker: it gets an untimed paced run of the raw consumer first (the "
    "broker's C2 compiler used half a core during the first timed one without it), and its "
    "runs go round-robin too.",
    "- windowed_count: 1-minute tumbling windows; session: 5-minute inactivity gap; grace 60 s "
    "(nothing is late by more than 30 s). Kafka Streams' window/session stores keep 1 day "
    "(its default of window+grace makes a RocksDB segment per minute of event time).",
    "- aiokafka: getmany + orjson + dicts, no state store or changelog (the Python ceiling).",
    "- aiokafka_keys (count only): getmany counting record keys, nothing decoded: the ceiling "
    "for a count that, like streams_app's with lazy values, never reads the value.",
    "- faust: agents + Tables in memory (docs defaults); the join looks zones up in a "
    "co-partitioned Table and forwards the borough to a topic keyed by it. No session windows.",
    "- quixstreams: StreamingDataFrame with stateful apply / tumbling_window / session_window "
    "and RocksDB state; the zones are read into a dict at start (Quix has no table to join "
    "with; `join_asof` does not wait for the zones side). Its session windows slow down "
    "superlinearly on this data (each event scans the key's windows in RocksDB): 50k records "
    "take ~4 s, 300k took over 300 s, so a 1M run is expected to hit the per-run timeout. "
    "Settings: its documented defaults, which are already its throughput settings "
    "(commit_interval 5 s, RocksDB with a shared 1 GiB block cache, changelog topics on); "
    "nothing changed. It has no record cache: results are complete once the last record is "
    "processed.",
    "- streams_app: its defaults (record cache 10 MiB, commit every 1 s, RocksDB stores with "
    "changelogs) plus the tuning guide's `STREAMS_LAZY_VALUES=true` for trusted input (counts "
    "skip decoding values; off by default); the run forces a commit once the input is "
    "consumed.",
    "- kafka_streams: Kafka Streams 4.4.0 DSL (GlobalKTable join), one stream thread, JVM "
    "-Xmx2g. Tuned for throughput as its documentation recommends: record cache on (default "
    "10 MiB: every pipeline's keys fit; 64 MiB, producer batch.size 256 KiB, "
    "max.poll.records 5000 and fetch.max.wait.ms 100 measured no different on count: 17.5k "
    "vs 16.7k rec/s, 8.6 vs 9.4 JVM CPU s for 300k records), producer linger.ms 100 (its own "
    "default), commits every 1 s (100 ms in the latency test), and a commit requested as soon "
    "as the whole input is consumed (before, the end waited for the next interval, up to 1 s; "
    "streams_app's contestant forces its commit at the same point). Window and session stores "
    "keep 1 day (segments of 12 h: the default window+grace retention makes a RocksDB segment "
    "per minute of event time). `BENCH_JAVA_OPTS=-Dks.<property>=<value>` overrides any "
    "setting for experiments.",
    "- kafka_streams, session (6.2k rec/s in the last full run, against 40.5k for "
    "streams_app): a JFR profile puts the stream thread in the record cache's range iterator "
    "(`NamedCache` copying the key range, `SessionKeySchema` filtering it), not in RocksDB "
    "(~10% of its samples). Every ride extends its zone's session, so the store removes the "
    "old session and writes the new one; the removed session stays in the cache as a "
    "tombstone until the next flush, and every lookup of the key (a range scan, "
    "`findSessions`) walks over them; with String keys the range of zone \"1\" also spans "
    "the sessions of \"10\"..\"199\" (their bytes sort in between). Changed: a fixed-width "
    "store key serde (the zone id as a 4-byte int, `ZoneKeySerde`) and a 100 ms commit "
    "interval for this pipeline; the output is the same and verified. Measured one after "
    "the other on one broker and the same 200k records (a shared machine, load average "
    "11-16 on 2 cores, so JVM CPU seconds are the steadier figure): String keys and 1 s "
    "commits (before) 1,637 rec/s, 34.4 CPU s; 4-byte keys and 1 s commits 2,013 rec/s, "
    "37.1 CPU s; 4-byte keys and 100 ms commits (after) 2,803 rec/s, 25.0 CPU s. At 100k: "
    "String keys with 100 ms commits 24.7 CPU s against 17.3 s with 4-byte keys; the record "
    "cache off (all stores) 31.9 s; 30 ms commits no better than 100 ms (29.0 against 27.6 "
    "CPU s). `-Dbench.session.stringKeys=true` restores the String "
    "store keys, `-Dks.commit.interval.ms=1000` the interval.",
    "- Before/after, `python -m bench.run --quick --pipelines session,count --contestants "
    "kafka_streams,streams_app` (50k records, a cold JVM, the shared machine; records/s "
    "Kafka Streams / streams_app): before session 4,501 / 24,495, count 11,030 / 108,829; "
    "after, under a load average of ~17 on 2 cores, session 2,069 / 22,185, count 5,957 / "
    "67,845, and in a second run count 3,940 / 39,410 with Kafka Streams' session run over "
    "the quick mode's 60 s limit. At 50k records the JVM's start and JIT dominate and the "
    "load swamps the tuning; the 200k comparison above is the measurement of it.",
    "- End time: the moment the contestant's results cover every input record (Kafka Streams: "
    "after the cache flush on commit), followed by an offset commit where the API allows.",
]


def chart(doc: dict, path: Path) -> None:
    """Grouped bar chart of records/s per pipeline and contestant (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    width = 0.8 / len(CONTESTANTS)
    for i, name in enumerate(CONTESTANTS):
        values = [doc["pipelines"][p][name]["records_per_s"] or 0.0 for p in PIPELINES]
        xs = [j + i * width for j in range(len(PIPELINES))]
        ax.bar(xs, values, width, label=name)
        for x, val in zip(xs, values, strict=True):
            if not val:
                ax.text(x, 1000, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks([j + width * (len(CONTESTANTS) - 1) / 2 for j in range(len(PIPELINES))])
    ax.set_xticklabels(PIPELINES)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1000)
    ax.set_ylabel("records/s (log)")
    ax.set_title(f"Throughput, {doc['date'][:10]} ({doc['machine']['cores']} cores)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    """``python -m bench.report``: re-render BENCHMARKS.md and the chart from the saved JSON."""
    print(table(rerender()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
