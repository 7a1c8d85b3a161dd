"""The "coming from Kafka Streams" page names every public DSL name, and nothing stale.

Its tables map Java names (first column) to streams_app names (second column, as code:
``KStream.map_values``, ``Serdes``). Every public method of the DSL classes and every name in
``streams_app.__all__`` must be in a second column; every ``Class`` or ``Class.member`` there
must exist in the package.
"""

from __future__ import annotations

import inspect
import re

import streams_app
from streams_app.dsl import BranchedKStream
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.runtime.test_driver import NoSuchElementError, TestInputTopic, TestOutputTopic
from streams_app.settings import Settings
from tests.docs.samples import DOCS

PAGE = DOCS / "coming-from" / "kafka-streams.md"

# Classes whose every public method must be on the page: the DSL, its options, windows,
# serdes factory, topology and test driver.
DSL_CLASSES: list[type] = [
    streams_app.StreamsBuilder, streams_app.KStream, BranchedKStream, streams_app.KTable,
    streams_app.GlobalKTable, streams_app.KGroupedStream, streams_app.KGroupedTable,
    streams_app.TimeWindowedKStream, streams_app.SessionWindowedKStream, streams_app.Topology,
    streams_app.TopologyTestDriver, TestInputTopic, TestOutputTopic,
    streams_app.Consumed, streams_app.Produced, streams_app.Grouped, streams_app.Materialized,
    streams_app.Repartitioned, streams_app.Branched, streams_app.JoinWindows,
    streams_app.Joined, streams_app.StreamJoined, streams_app.TableJoined,
    streams_app.TimeWindows, streams_app.SlidingWindows, streams_app.SessionWindows,
    streams_app.EmitStrategy, streams_app.Suppressed, streams_app.BufferConfig,
    streams_app.Serdes, streams_app.CogroupedKStream, streams_app.Stores,
    streams_app.StoreBuilder, streams_app.TimeWindowedCogroupedKStream,
    streams_app.SessionWindowedCogroupedKStream,
]
KNOWN: dict[str, object] = {
    **{name: getattr(streams_app, name) for name in streams_app.__all__},
    **{c.__name__: c for c in DSL_CLASSES},
    "FaustRuntime": FaustRuntime, "Settings": Settings, "NoSuchElementError": NoSuchElementError,
}
_CODE = re.compile(r"`([^`]+)`")
_NAME = re.compile(r"^([A-Z]\w*)(?:\.(\w+))?$")


def public_methods(cls: type) -> set[str]:
    """Methods, class/static methods and properties defined by ``cls`` or its own bases."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("streams_app"):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(value) or isinstance(value, classmethod | staticmethod
                                                                 | property):
                names.add(name)
    return names


def python_column(text: str) -> set[str]:
    """Code spans in the second column of the page's tables."""
    spans: set[str] = set()
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2 or set(cells[1]) <= {"-", ":"}:
            continue
        spans.update(_CODE.findall(cells[1]))
    return spans


def missing_names(spans: set[str]) -> list[str]:
    """Public names the spans do not mention."""
    wanted = {name for name in streams_app.__all__}
    wanted |= {c.__name__ for c in DSL_CLASSES}
    wanted |= {f"{c.__name__}.{m}" for c in DSL_CLASSES for m in public_methods(c)}
    return sorted(wanted - spans)


def stale_names(spans: set[str]) -> list[str]:
    """Spans naming a class or member that does not exist."""
    stale = []
    for span in spans:
        m = _NAME.match(span)
        if m is None or m.group(1).isupper():  # not a name (a call, an env var)
            continue
        owner = KNOWN.get(m.group(1))
        if owner is None or (m.group(2) and not hasattr(owner, m.group(2))):
            stale.append(span)
    return sorted(stale)


def test_page_names_every_public_dsl_name() -> None:
    assert missing_names(python_column(PAGE.read_text())) == []


def test_page_names_nothing_that_does_not_exist() -> None:
    assert stale_names(python_column(PAGE.read_text())) == []


def test_the_comparison_can_fail() -> None:
    table = "| Java | Python |\n|---|---|\n| `mapValues` | `KStream.map_values` |\n"
    spans = python_column(table)
    assert spans == {"KStream.map_values"}
    assert "KStream.filter" in missing_names(spans)
    assert stale_names({"KStream.map_valuez", "Nope", "STREAMS_ACKS", "KStream"}) == [
        "KStream.map_valuez", "Nope"]


def test_public_methods_sees_inherited_dsl_methods() -> None:
    assert {"count", "emit_strategy"} <= public_methods(streams_app.TimeWindowedKStream)
