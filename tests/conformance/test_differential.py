"""Property-based differential test: random inputs (out-of-order and late timestamps in the
styles of conformance.timing: narrow, at window/grace/retention boundaries, and segment-scale
jumps; duplicate keys, tombstones for present and absent keys, null keys, wall-clock
advances; record cache on and off) for every catalogue topology,
through Kafka Streams and streams_app; the outputs and stores must be identical.

One test per family, CONFORMANCE_EXAMPLES examples each (60 by default, 1,000 in
`make conformance`). A failure is shrunk
by hypothesis and the minimal scenario is saved to conformance/scenarios/found/ with Kafka
Streams' results as golden, so it stays in the corpus. Topologies streams_app cannot build
yet are run on the oracle only (it must accept them) and counted in the terminal summary.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

from conformance import engine
from conformance.compare import explain
from conformance.families import FAMILIES, TopologySpec, by_family, null_keys_allowed
from conformance.oracle import Oracle
from conformance.scenarios import FOUND, Scenario
from conformance.timing import STYLES, boundary_times, wide_steps

from .conftest import NOTES, TARGET

# `make conformance` runs 1,000 per family; the default keeps `make test` short.
EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "60"))
KEYS = ("a", "b", "c")


def _value(spec: TopologySpec, topic: str) -> st.SearchStrategy[Any]:
    ints = st.integers(-3, 12)
    if topic in spec.fk_topics:
        plain = st.fixed_dictionaries({"fk": st.one_of(st.none(), st.sampled_from(KEYS)),
                                       "v": ints})
    else:
        plain = ints
    return st.one_of(plain, st.none())  # None: a tombstone


@st.composite
def _event(draw: st.DrawFn, spec: TopologySpec, null_keys: bool = True) -> dict[str, Any]:
    """A record without its timestamp (added by ``_timestamps``), or a wall-clock advance."""
    if spec.wall_clock and draw(st.integers(0, 5)) == 0:
        return {"advance_wall_clock_ms": draw(st.sampled_from((100, 1000, 5000)))}
    topic = draw(st.sampled_from(spec.inputs))
    return {
        "topic": topic,
        "key": draw(st.one_of(st.sampled_from(KEYS), st.none()) if null_keys
                    else st.sampled_from(KEYS)),
        "value": draw(_value(spec, topic)),
    }


@st.composite
def _timestamps(draw: st.DrawFn, params: dict[str, Any], n: int) -> list[int]:
    """``n`` timestamps in one of conformance.timing's styles."""
    style = draw(st.sampled_from(STYLES))
    if style == "narrow":
        times = st.integers(0, 40)
    elif style == "boundary":
        times = st.sampled_from(boundary_times(params))
    else:
        steps, now, out = wide_steps(params), 0, []
        for _ in range(n):
            step = draw(st.sampled_from(steps))
            if draw(st.integers(0, 2)):  # forward: stream time advances
                now += step
                out.append(now)
            else:  # out of order: late by a step
                out.append(max(0, now - step))
        return out
    return draw(st.lists(times, min_size=n, max_size=n))


@st.composite
def scenarios(draw: st.DrawFn, family: str) -> Scenario:
    """A random scenario for one topology of ``family``."""
    spec = draw(st.sampled_from(by_family(family)))
    params = draw(st.sampled_from(spec.variants))
    events = draw(st.lists(_event(spec, null_keys_allowed(spec.name, params)), max_size=12))
    records = [e for e in events if "topic" in e]
    for e, ts in zip(records, draw(_timestamps(params, len(records))), strict=True):
        e["timestamp"] = ts
    s: Scenario = {"name": "differential", "topology": spec.name, "params": params,
                   "inputs": events}
    config = draw(st.sampled_from(spec.configs))
    if config:
        s["config"] = config
    return s


def save_found(family: str, scenario: Scenario, expected: dict[str, Any]) -> str:
    """Keep a (shrunk) failing scenario in the corpus, with Kafka Streams' results."""
    digest = hashlib.sha1(json.dumps(scenario, sort_keys=True).encode()).hexdigest()[:10]
    name = f"found.{family}.{scenario['topology']}.{digest}"
    kept = {**scenario, "name": name,
            "expected": {k: expected[k] for k in ("outputs", "stores", "window_stores")}}
    FOUND.mkdir(parents=True, exist_ok=True)
    path = FOUND / f"{name}.json"
    path.write_text(json.dumps(kept, indent=1) + "\n")
    return str(path)


@pytest.mark.parametrize("family", FAMILIES)
def test_differential(family: str, oracle: Oracle) -> None:
    """Kafka Streams and streams_app agree on random inputs for every topology of a family."""
    seen: Counter[str] = Counter()
    failing: list[tuple[Scenario, dict[str, Any]]] = []

    @settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
              database=DirectoryBasedExampleDatabase(str(TARGET / "hypothesis")),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(scenarios(family))
    def check(scenario: Scenario) -> None:
        expected = oracle.run(scenario)
        assert "error" not in expected, f"Kafka Streams rejected {scenario}: {expected}"
        wanted = {"stores": list(expected["stores"]),
                  "window_stores": list(expected["window_stores"])}
        try:
            actual = engine.run(scenario, wanted)
        except engine.Missing:
            seen["oracle only (missing in streams_app)"] += 1
            return
        except Exception:
            failing.append((scenario, expected))
            raise
        seen["compared"] += 1
        diff = explain(expected, actual)
        if diff:
            failing.append((scenario, expected))
        assert not diff, f"differs from Kafka Streams:\n{diff}"

    try:
        check()
    except Exception:
        if failing:  # hypothesis replays the shrunk example last
            path = save_found(family, *failing[-1])
            NOTES.append(f"differential {family}: shrunk failing scenario saved to {path}")
        raise
    finally:
        NOTES.append(f"differential {family}: " + ", ".join(
            f"{n} {what}" for what, n in sorted(seen.items())))
