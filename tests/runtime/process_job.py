"""A Faust worker running a DSL job with ``process()`` and ``cogroup``.

- ``<prefix>clicks`` -> ``process(CountClicks, "click-counts")``: counts per user in a store; a
  wall-clock punctuator (every :data:`EMIT_MS`) forwards the counts changed since the last
  one to ``<prefix>click-counts``.
- ``<prefix>clicks`` and ``<prefix>purchases`` cogrouped per user into
  ``{"clicks": n, "spend": total}`` -> ``<prefix>per-user``.

Settings come from ``STREAMS_*``.
"""

from typing import Any

from streams_app import (
    Materialized,
    Processor,
    PunctuationType,
    Record,
    Stores,
    StreamsBuilder,
)
from streams_app.dsl.topology import Topology
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, LongSerde, StringSerde
from streams_app.settings import Settings

EMIT_MS = 200
S, J, L = StringSerde(), JsonSerde(), LongSerde()


class CountClicks(Processor):
    """Counts clicks per user in the ``click-counts`` store; emits changed counts on a
    wall-clock punctuation."""

    def init(self, context: Any) -> None:
        super().init(context)
        self.counts = context.get_state_store("click-counts")
        self.changed: set[str] = set()
        context.schedule(EMIT_MS, PunctuationType.WALL_CLOCK_TIME, self.emit)

    def process(self, record: Record) -> None:
        self.counts.put(record.key, (self.counts.get(record.key) or 0) + 1)
        self.changed.add(record.key)

    def emit(self, now: int) -> None:
        for key in sorted(self.changed):
            self.context.forward(Record(key, self.counts.get(key), now))
        self.changed.clear()


def add_click(_key: str, _value: Any, agg: dict) -> dict:
    return {**agg, "clicks": agg["clicks"] + 1}


def add_spend(_key: str, value: Any, agg: dict) -> dict:
    return {**agg, "spend": agg["spend"] + value["amount"]}


def build(prefix: str) -> Topology:
    b = StreamsBuilder()
    b.add_state_store(Stores.key_value_store_builder(
        Stores.persistent_key_value_store("click-counts"), S, L))
    clicks = b.stream(f"{prefix}clicks", key_serde=S, value_serde=J)
    purchases = b.stream(f"{prefix}purchases", key_serde=S, value_serde=J)
    clicks.process(CountClicks, "click-counts").to(f"{prefix}click-counts", key_serde=S,
                                                    value_serde=L)
    (clicks.group_by_key().cogroup(add_click)
     .cogroup(purchases.group_by_key(), add_spend)
     .aggregate(lambda: {"clicks": 0, "spend": 0},
                Materialized("per-user", key_serde=S, value_serde=J))
     .to_stream().to(f"{prefix}per-user", key_serde=S, value_serde=J))
    return b.build()


settings = Settings.from_env()
runtime = FaustRuntime(build(settings.topic_prefix), settings)
app = runtime.app
