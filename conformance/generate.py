"""Generate the scenario corpus (conformance/scenarios/<family>/<topology>.jsonl) with golden
results from the Kafka Streams oracle.

    python -m conformance.generate            # regenerate inputs and golden results
    python -m conformance.generate --golden   # only refresh golden results of existing files
    python -m conformance.generate --only cogroup_aggregate   # one topology's file

Inputs are seeded by scenario name, so regeneration is stable. Input set 0 of each variant is
"clean" (ordered timestamps, no null keys, no tombstones); the others are messy: duplicate
keys, tombstones (for present and absent keys), null keys, (for windows) wall-clock advances,
and timestamps in the styles of conformance.timing in turn: narrow and out of order, at
window/grace/retention boundaries, and segment-scale jumps where keys go quiet and return.
Every stateful topology runs with the record cache off and on.
conformance/scenarios/found/ (shrunk property-test failures) and edge/ (hand-written) are left
alone, except that --golden refreshes edge/'s results too.
"""

from __future__ import annotations

import argparse
import json
import random
import zlib
from pathlib import Path
from typing import Any

from conformance.families import RAW_CONFIGS, TOPOLOGIES, TopologySpec, null_keys_allowed
from conformance.oracle import Oracle
from conformance.scenarios import CORPUS, FOUND, Scenario, load_file
from conformance.timing import SEGMENT_MS, boundary_times, wide_steps

KEYS = ("a", "b", "c", "d")
# Input sets per (variant, config): set 0 is clean, the rest cycle through these styles.
INPUT_SETS = {"stream": 3, "aggregate": 4, "table": 4, "windows": 4, "joins": 4}
MESSY = ("narrow", "boundary", "wide")


def _value(rng: random.Random, fk: bool, tombstones: bool) -> Any:
    if tombstones and rng.random() < 0.15:
        return None
    v = rng.randint(-3, 12)
    if fk:
        return {"fk": rng.choice(("a", "b", "c", None) if tombstones else ("a", "b", "c")),
                "v": v}
    return v


def _times(rng: random.Random, params: dict[str, Any], style: str, n: int,
           start: int) -> list[int]:
    """``n`` timestamps in one of conformance.timing's styles (``clean``: ordered)."""
    out: list[int] = []
    t = start
    if style == "boundary":
        return [rng.choice(boundary_times(params)) for _ in range(n)]
    steps = wide_steps(params) if style == "wide" else list(range(7))
    for _ in range(n):
        step = rng.choice(steps)
        if style == "clean" or rng.random() > 0.3:
            t += step
            out.append(t)
        else:  # out of order: late by a step (narrow: up to 15)
            out.append(max(0, t - (step if style == "wide" else rng.randint(1, 15))))
    return out


def make_inputs(spec: TopologySpec, rng: random.Random, style: str,
                params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A random input sequence for ``spec``; style "clean" (ordered, no nulls), or a style of
    conformance.timing (with null keys, tombstones for present and absent keys)."""
    clean = style == "clean"
    keyed = not null_keys_allowed(spec.name, params or {})
    n = rng.randint(4, 14)
    times = _times(rng, params or {}, style, n, rng.randint(0, 20))
    events: list[dict[str, Any]] = []
    for ts in times:
        topic = rng.choice(spec.inputs)
        null_key = not clean and rng.random() < 0.1 and not keyed
        key = None if null_key else rng.choice(KEYS[: rng.randint(2, 4)])
        value = _value(rng, topic in spec.fk_topics, tombstones=not clean)
        events.append({"topic": topic, "key": key, "value": value, "timestamp": ts})
        if spec.wall_clock and not clean and rng.random() < 0.3:
            events.append({"advance_wall_clock_ms": rng.choice((500, 1000, 2000))})
    if spec.wall_clock:
        # A final late-enough record and clock advance let window-close emissions happen.
        end = max(times, default=0) + (100 if style != "wide" else 3 * SEGMENT_MS)
        events.append({"topic": spec.inputs[0], "key": KEYS[0], "value": 1, "timestamp": end})
        events.append({"advance_wall_clock_ms": 1000})
    return events


def scenarios_for(spec: TopologySpec) -> list[Scenario]:
    """Every (variant, config, input set) scenario of one topology."""
    out = []
    for vi, params in enumerate(spec.variants):
        for ci, config in enumerate(spec.configs):
            if config in RAW_CONFIGS:  # one messy set per variant, the two ways alternating
                if RAW_CONFIGS.index(config) != vi % len(RAW_CONFIGS):
                    continue
                tag, sets = f".raw{ci}", [1 + vi % len(MESSY)]
            else:
                tag = ".cache" if config.get("cache_max_bytes") else ""
                sets = list(range(INPUT_SETS[spec.family]))
            for si in sets:
                name = f"{spec.name}.v{vi}{tag}.s{si}"
                rng = random.Random(zlib.crc32(name.encode()))
                s: Scenario = {"name": name, "topology": spec.name, "params": params}
                if config:
                    s["config"] = config
                style = "clean" if si == 0 else MESSY[(si - 1) % len(MESSY)]
                s["inputs"] = make_inputs(spec, rng, style, params)
                out.append(s)
    return out


def write(path: Path, scenarios: list[Scenario]) -> None:
    """One scenario per line, keys in a stable order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(s, sort_keys=False) + "\n" for s in scenarios))


def add_golden(oracle: Oracle, scenarios: list[Scenario]) -> None:
    """Attach the oracle's results as "expected"; oracle errors abort (a broken scenario)."""
    for s, r in zip(scenarios, oracle.run_many(scenarios), strict=True):
        if "error" in r:
            raise SystemExit(f"oracle error for {s['name']}: {r['error']}")
        s["expected"] = {k: r[k] for k in ("outputs", "stores", "window_stores")}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", action="store_true",
                    help="only refresh the golden results of the existing files")
    ap.add_argument("--only", action="append", metavar="TOPOLOGY",
                    help="generate only these topologies' files (repeatable)")
    args = ap.parse_args(argv)
    if args.golden:
        files = {p: load_file(p) for p in sorted(CORPUS.rglob("*.jsonl"))}
    else:
        unknown = sorted(set(args.only or ()) - set(TOPOLOGIES))
        if unknown:
            ap.error(f"--only: unknown topologies {', '.join(unknown)}")
        files = {}
        for spec in TOPOLOGIES.values():
            if args.only and spec.name not in args.only:
                continue
            files[CORPUS / spec.family / f"{spec.name}.jsonl"] = scenarios_for(spec)
    with Oracle() as oracle:
        for path, scenarios in files.items():
            add_golden(oracle, scenarios)
            write(path, scenarios)
    total = sum(len(s) for s in files.values())
    print(f"wrote {total} scenarios in {len(files)} files under {CORPUS}"
          f" (left {FOUND.relative_to(CORPUS.parent)} and edge/ alone)")


if __name__ == "__main__":
    main()
