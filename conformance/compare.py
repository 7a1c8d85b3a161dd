"""Record-by-record comparison of two engine results, and the scenario verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

IDENTICAL, DIFFERENT, MISSING = "identical", "different", "missing"


@dataclass
class Verdict:
    """The outcome of one scenario: status, its family, and why (for different / missing)."""

    name: str
    topology: str
    family: str
    status: str
    detail: str = ""


def _norm(x: Any) -> Any:
    # Through JSON, so tuples/lists and int/float spellings compare as the oracle sees them.
    return json.loads(json.dumps(x))


def _show(x: Any) -> str:
    return json.dumps(x, sort_keys=True)


def differences(expected: dict[str, Any], actual: dict[str, Any], limit: int = 5) -> list[str]:
    """Human-readable differences (empty when identical): per output topic, the first
    differing record index with expected vs actual, then store contents."""
    exp, act = _norm(expected), _norm(actual)
    out: list[str] = []
    for topic, want in exp.get("outputs", {}).items():
        got = act.get("outputs", {}).get(topic, [])
        for i in range(max(len(want), len(got))):
            w = want[i] if i < len(want) else "<none>"
            g = got[i] if i < len(got) else "<none>"
            if w != g:
                out.append(f"topic {topic!r} record {i}: expected {_show(w)}, got {_show(g)}"
                           f" ({len(want)} expected records, {len(got)} actual)")
                break
    for section in ("stores", "window_stores"):
        for store, want in exp.get(section, {}).items():
            got = act.get(section, {}).get(store)
            if got != want:
                out.append(f"store {store!r}: expected {_show(want)}, got {_show(got)}")
    return out[:limit]


def explain(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    """One message for an assertion: every difference, one per line."""
    return "\n".join(differences(expected, actual))
