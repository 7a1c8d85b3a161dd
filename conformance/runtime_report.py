"""Scenario verdicts on the Faust runtime, their classification, and RUNTIME-REPORT.md.

A difference is explained when the runtime cannot reproduce the scenario's conditions and
streams_app's own driver, run under the runtime's conditions (:func:`runtime_conditions`),
gives exactly what the runtime gives:
- ``wall-clock``: the scenario advances the driver's wall clock (the worker's clock is real);
- ``cache``: the scenario turns Kafka Streams' record cache on (the runtime runs it off).
Anything else is unexplained (the test fails on it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import engine, runtime_engine
from conformance.compare import DIFFERENT, IDENTICAL, MISSING, Verdict, differences, explain
from conformance.families import TOPOLOGIES, family_of
from conformance.report import render as render_driver_report
from conformance.report import total_line
from conformance.scenarios import Scenario

RUNTIME_REPORT = Path(__file__).resolve().parent / "RUNTIME-REPORT.md"
TARGET = Path(__file__).resolve().parent / "target"

WALL_CLOCK, CACHE = "wall-clock", "cache"


@dataclass
class RuntimeVerdict(Verdict):
    reason: str = ""  # the class of a difference; "" = unexplained


def is_unexplained(v: Verdict) -> bool:
    return v.status == DIFFERENT and not getattr(v, "reason", "")


def reduced(scenarios: list[Scenario], per_topology: int = 1) -> list[Scenario]:
    """A few scenarios of every catalogue topology (the first ones, cache off)."""
    taken: Counter[str] = Counter()
    out = []
    for s in scenarios:
        if s["topology"] in TOPOLOGIES and not s.get("config", {}).get("cache_max_bytes") \
                and taken[s["topology"]] < per_topology:
            taken[s["topology"]] += 1
            out.append(s)
    return out


def runtime_conditions(s: Scenario) -> Scenario:
    """The scenario as the runtime runs it: no wall-clock advances, record cache off."""
    return {**s, "config": {}, "inputs": [ev for ev in s["inputs"] if "topic" in ev]}


def _reason(s: Scenario, actual: dict[str, Any]) -> str:
    """Why the runtime differs from the golden result: a class when streams_app's own driver,
    run under the runtime's conditions, gives exactly what the runtime gives; else ""."""
    causes = [c for c, present in (
        (WALL_CLOCK, any("advance_wall_clock_ms" in ev for ev in s["inputs"])),
        (CACHE, bool(s.get("config", {}).get("cache_max_bytes")))) if present]
    if not causes:
        return ""
    wanted = {k: list(v) for k, v in s["expected"].items() if k != "outputs"}
    try:
        driver = engine.run(runtime_conditions(s), wanted)
    except Exception:  # noqa: BLE001 - then the difference stays unexplained
        return ""
    return "" if differences(driver, actual) else " + ".join(causes)


async def verdict(s: Scenario, *, bootstrap: str, name: str, data_dir: Path) -> RuntimeVerdict:
    """Run one scenario on the runtime and compare it with its golden result."""
    base = (s["name"], s["topology"], family_of(s["topology"]))
    expected = s["expected"]
    wanted = {"stores": list(expected["stores"]), "window_stores": list(expected["window_stores"])}
    try:
        actual = await runtime_engine.run(s, wanted, bootstrap=bootstrap, name=name,
                                          data_dir=data_dir)
    except engine.Missing as exc:
        return RuntimeVerdict(*base, MISSING, str(exc))
    except Exception as exc:  # noqa: BLE001 - reported as an unexplained difference
        return RuntimeVerdict(*base, DIFFERENT, f"runtime raised {type(exc).__name__}: {exc}")
    diff = explain(expected, actual)
    if not diff:
        return RuntimeVerdict(*base, IDENTICAL)
    return RuntimeVerdict(*base, DIFFERENT, diff, _reason(s, actual))


def render(verdicts: list[RuntimeVerdict], seconds: float, full: bool) -> str:
    """The driver report's layout, retitled, with each difference's class."""
    tagged = [RuntimeVerdict(v.name, v.topology, v.family, v.status,
                             f"[{v.reason or 'UNEXPLAINED'}] {v.detail}"
                             if v.status == DIFFERENT else v.detail, v.reason)
              for v in verdicts]
    body = render_driver_report(tagged, "conformance/scenarios" if full else
                                "conformance/scenarios (reduced set)")
    body = body.split("\n## Generators", 1)[0].rstrip("\n")
    table = body[body.index("| family |"):]
    reasons = Counter(v.reason or "unexplained" for v in verdicts if v.status == DIFFERENT)
    head = [
        "# Runtime conformance report", "",
        "The corpus through the Faust runtime on a real broker (one partition per input, "
        "record cache off, one scenario after another on fresh topics, worker in-process), "
        "compared with the golden Kafka Streams 4.4.0 results record by record and by final "
        "store contents. Generated by `make conformance-runtime` "
        "(tests/conformance/test_runtime_conformance.py); do not edit.",
        f"Duration: {seconds:.0f} s for {len(verdicts)} scenarios.", "",
        "Differences by class: " + (", ".join(f"{k} {n}" for k, n in sorted(reasons.items()))
                                    or "none") + ".", "",
        "Inputs are produced in the scenario's order, one run of records of one topic at a "
        "time (one record at a time where internal topics feed back, as in foreign-key "
        "joins), each run processed, global stores included, before the next is produced "
        "(so the order across topics is the scenario's, as in the driver). Wall-clock emit "
        "throttles are off, as in Kafka's TopologyTestDriver. A difference is explained when "
        "streams_app's TopologyTestDriver, run under the runtime's conditions, gives exactly "
        "what the runtime gives:", "",
        "- wall-clock: the scenario advances the driver's wall clock; the worker's is real "
        "(the advances are left out).",
        "- cache: the scenario sets the record cache; the runtime runs with it off.", "",
    ]
    return "\n".join(head) + table + "\n\n" + total_line(verdicts) + "\n"


def write(verdicts: list[RuntimeVerdict], seconds: float, full: bool) -> Path:
    """RUNTIME-REPORT.md for a full run, target/RUNTIME-REPORT-reduced.md otherwise."""
    path = RUNTIME_REPORT if full else TARGET / "RUNTIME-REPORT-reduced.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(verdicts, seconds, full), encoding="utf-8")
    return path
