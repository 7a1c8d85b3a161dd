"""A Faust worker whose processor emits a heartbeat on a 200 ms wall-clock punctuator.

``<prefix>beats-in`` starts the task (one record); every punctuation forwards
``("hb", wall-clock time)`` to ``<prefix>heartbeats``. Settings come from ``STREAMS_*``.
"""

from typing import Any

from streams_app.dsl.topology import Topology
from streams_app.processors.api import Processor, PunctuationType, Record
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings

HEARTBEAT_MS = 200


class Heartbeat(Processor):
    """Forwards a heartbeat record at every wall-clock punctuation."""

    def init(self, context: Any) -> None:
        super().init(context)
        context.schedule(HEARTBEAT_MS, PunctuationType.WALL_CLOCK_TIME, self.beat)

    def process(self, record: Record) -> None:
        self.context.forward(record)

    def beat(self, now: int) -> None:
        self.context.forward(Record("hb", now, now))


def build(prefix: str) -> Topology:
    topo = Topology()
    topo.add_source("src", f"{prefix}beats-in", key_serde=StringSerde(), value_serde=JsonSerde())
    topo.add_processor("beat", Heartbeat, "src")
    topo.add_sink("out", f"{prefix}heartbeats", "beat", key_serde=StringSerde(),
                  value_serde=JsonSerde())
    return topo


settings = Settings.from_env()
runtime = FaustRuntime(build(settings.topic_prefix), settings)
app = runtime.app
