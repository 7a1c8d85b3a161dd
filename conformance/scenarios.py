"""Loading and validating scenario files (format: conformance/README.md).

A scenario is a JSON object: name, topology, params, optional config, inputs (records and
wall-clock advances, in order) and optional golden "expected" results from Kafka Streams.
Files are ``*.json`` (one scenario or a list) or ``*.jsonl`` (one scenario per line), found
recursively under a folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "scenarios"
FOUND = CORPUS / "found"
ENV_FOLDER = "CONFORMANCE_SCENARIOS"

Scenario = dict[str, Any]


class ScenarioError(ValueError):
    """A malformed scenario file; the message names the file and the field."""


# Kafka Streams' record cache size as a raw property; the oracle applies raw properties last.
CACHE_PROPERTY = "statestore.cache.max.bytes"


def cache_max_bytes(s: Scenario) -> int:
    """The record cache size Kafka Streams runs ``s`` with: ``config.streams``'
    ``statestore.cache.max.bytes`` when set (it overrides), else ``config.cache_max_bytes``,
    else 0 (off). Both drivers read the cache from here, so they never disagree on it."""
    config = s.get("config", {})
    raw = config.get("streams", {}).get(CACHE_PROPERTY)
    return int(raw) if raw is not None else int(config.get("cache_max_bytes", 0))


def _validate_config(config: Any, where: str) -> None:
    # A value the oracle would read differently from streams_app (a string or float size, a
    # property that is not a string) is rejected rather than silently meaning two things.
    if not isinstance(config, dict):
        raise ScenarioError(f"{where}: 'config' must be an object")
    size = config.get("cache_max_bytes", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ScenarioError(f"{where}: config.cache_max_bytes must be an integer >= 0 "
                            f"(bytes; 0 = record cache off), got {size!r}")
    raw = config.get("streams", {})
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ScenarioError(f"{where}: config.streams must map Kafka Streams property names "
                            "to strings")
    value = raw.get(CACHE_PROPERTY)
    if value is not None and not (value.strip().isdigit()):
        raise ScenarioError(f"{where}: config.streams[{CACHE_PROPERTY!r}] must be a "
                            f"non-negative integer string, got {value!r}")


def scenario_folder() -> Path:
    """The corpus to run: $CONFORMANCE_SCENARIOS if set, else conformance/scenarios."""
    env = os.environ.get(ENV_FOLDER)
    if not env:
        return CORPUS
    folder = Path(env).expanduser().resolve()
    if not folder.is_dir():
        raise ScenarioError(f"{ENV_FOLDER}={env!r} is not a directory")
    return folder


def is_external() -> bool:
    """True when the corpus comes from $CONFORMANCE_SCENARIOS rather than the project."""
    return bool(os.environ.get(ENV_FOLDER))


def validate(s: Any, where: str) -> Scenario:
    """Check one scenario's shape; raise ScenarioError naming ``where`` and the bad field."""
    if not isinstance(s, dict):
        raise ScenarioError(f"{where}: a scenario must be a JSON object")
    for field, kind in (("name", str), ("topology", str)):
        if not isinstance(s.get(field), kind):
            raise ScenarioError(f"{where}: '{field}' must be a string")
    if not isinstance(s.get("params", {}), dict):
        raise ScenarioError(f"{where}: 'params' must be an object")
    _validate_config(s.get("config", {}), where)
    inputs = s.get("inputs")
    if not isinstance(inputs, list):
        raise ScenarioError(f"{where}: 'inputs' must be a list")
    for i, ev in enumerate(inputs):
        at = f"{where}: inputs[{i}]"
        if not isinstance(ev, dict):
            raise ScenarioError(f"{at} must be an object")
        if "advance_wall_clock_ms" in ev:
            if not isinstance(ev["advance_wall_clock_ms"], int):
                raise ScenarioError(f"{at}.advance_wall_clock_ms must be an integer")
            continue
        if not isinstance(ev.get("topic"), str):
            raise ScenarioError(f"{at}.topic must be a string")
        if ev.get("key") is not None and not isinstance(ev["key"], str):
            raise ScenarioError(f"{at}.key must be a string or null")
        if not isinstance(ev.get("timestamp"), int) or isinstance(ev["timestamp"], bool):
            raise ScenarioError(f"{at}.timestamp must be an integer (epoch ms)")
    return s


def load_file(path: Path) -> list[Scenario]:
    """The scenarios in one .json or .jsonl file."""
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            items = [
                (f"{path}:{n}", json.loads(line))
                for n, line in enumerate(text.splitlines(), 1)
                if line.strip()
            ]
        else:
            doc = json.loads(text)
            docs = doc if isinstance(doc, list) else [doc]
            items = [(f"{path}[{n}]", d) for n, d in enumerate(docs)]
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: invalid JSON: {exc}") from exc
    return [validate(s, where) for where, s in items]


def load_folder(folder: Path) -> list[Scenario]:
    """All scenarios under ``folder`` (recursive, sorted by path); names must be unique."""
    seen: dict[str, Path] = {}
    out: list[Scenario] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".json", ".jsonl")):
        for s in load_file(path):
            if s["name"] in seen:
                raise ScenarioError(
                    f"{path}: scenario name {s['name']!r} already used in {seen[s['name']]}"
                )
            seen[s["name"]] = path
            out.append(s)
    return out


def for_oracle(s: Scenario) -> Scenario:
    """The scenario without its golden results (the oracle does not need them)."""
    return {k: v for k, v in s.items() if k != "expected"}
