"""A job as the operator sees it: its topology, settings, topics and local state directory.

A job module builds its runtime at import (``runtime = FaustRuntime(...)``); importing it
creates the Faust app object but connects to nothing and writes nothing, so the CLI loads
jobs that way, with the same ``STREAMS_*`` settings a worker would read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from streams_app.dsl.topology import SinkNode, Topology
from streams_app.jobs.process import job_module
from streams_app.kafka.topics import TopicSpec
from streams_app.settings import Settings

__all__ = ["JobError", "JobInfo", "load_job"]

INPUT, OUTPUT, REPARTITION, INTERNAL, CHANGELOG, DEAD_LETTER = (
    "input", "output", "repartition", "internal", "changelog", "dead-letter")


class JobError(LookupError):
    """The job cannot be loaded (unknown name, import error, no runtime in the module)."""


@dataclass(frozen=True)
class JobInfo:
    """What a job reads, writes and owns, with real (prefixed) topic names."""

    name: str
    module: str
    topology: Topology
    settings: Settings
    dead_letter_topic: str | None = None
    declared: tuple[TopicSpec, ...] = ()
    state_dir: Path | None = None
    _roles: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def app_id(self) -> str:
        return self.settings.app_id

    def topics(self) -> dict[str, str]:
        """Topic -> role (input, output, repartition, internal, changelog, dead-letter), in a stable
        order: inputs, outputs, then the internal topics the job owns."""
        topo, app_id = self.topology, self.app_id
        roles: dict[str, str] = {}
        for t in topo.source_topics():
            if t not in topo.internal_topics:
                roles[t] = INPUT
        for node in topo.nodes.values():
            if isinstance(node, SinkNode) and node.topic not in topo.internal_topics:
                roles.setdefault(node.topic, OUTPUT)
        for spec in topo.stores.values():
            if spec.is_global and spec.source_topic:
                roles.setdefault(spec.source_topic, INPUT)
        for t in sorted(topo.internal_topics):  # FK-join subscription topics: "internal"
            roles[topo.topic_name(t, app_id)] = \
                REPARTITION if t.endswith("-repartition") else INTERNAL
        for spec in topo.stores.values():
            changelog = spec.changelog_topic(app_id)
            if changelog and not spec.is_global:
                roles[changelog] = CHANGELOG
        if self.dead_letter_topic:
            roles[self.dead_letter_topic] = DEAD_LETTER
        for spec in self.declared:  # declared by the job but in no node (rare)
            roles.setdefault(spec.name, OUTPUT)
        return roles

    def input_topics(self) -> list[str]:
        return [t for t, role in self.topics().items() if role == INPUT]

    def internal_topics(self) -> list[str]:
        """Repartition, other internal and changelog topics: what a reset deletes (dead
        letters are kept)."""
        return [t for t, role in self.topics().items()
                if role in (REPARTITION, INTERNAL, CHANGELOG)]


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise JobError(f"cannot import job module {module!r}: {exc}") from exc


def load_job(name: str) -> JobInfo:
    """Load job ``name`` (a name from ``JOBS`` or a module path) without starting it.

    The module must expose its runtime as ``runtime`` (with ``topology`` and ``settings``),
    or a Faust app with a ``runtime`` attribute as ``app``, or a ``topology`` and ``settings``
    of its own.
    """
    try:
        module_name = job_module(name)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    module = _import(module_name)
    # The runtime as `runtime`, or reached from the Faust app the module exposes as `app`.
    runtime: Any = getattr(module, "runtime", None) or \
        getattr(getattr(module, "app", None), "runtime", None)
    topology = getattr(runtime, "topology", None) or getattr(module, "topology", None)
    settings = getattr(runtime, "settings", None) or getattr(module, "settings", None)
    if not isinstance(topology, Topology) or not isinstance(settings, Settings):
        raise JobError(f"job module {module_name!r} exposes no runtime (a `runtime` with "
                       "`topology` and `settings`)")
    app = getattr(runtime, "app", None) or getattr(module, "app", None)
    conf = getattr(app, "conf", None)
    state_dir = Path(conf.appdir) if conf is not None else settings.data_dir / "v1"
    return JobInfo(
        name=name, module=module_name, topology=topology, settings=settings,
        dead_letter_topic=getattr(runtime, "dead_letter_topic", None),
        declared=tuple(getattr(app, "topic_specs", ()) or ()),
        state_dir=state_dir,
    )
