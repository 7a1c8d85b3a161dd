"""A Faust worker joining ``<prefix>orders`` (stream) with ``<prefix>rates`` (table) into
``<prefix>priced``: one task reading two partitions, so its input is time-synchronized.

Settings come from ``STREAMS_*`` (``STREAMS_MAX_TASK_IDLE_MS`` among them).
"""

from streams_app import StreamsBuilder
from streams_app.dsl.topology import Topology
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings

S, J = StringSerde(), JsonSerde()


def build(prefix: str) -> Topology:
    b = StreamsBuilder()
    rates = b.table(f"{prefix}rates", key_serde=S, value_serde=J)
    (b.stream(f"{prefix}orders", key_serde=S, value_serde=J)
     .join(rates, lambda order, rate: {"order": order["n"], "rate": rate["r"]})
     .to(f"{prefix}priced", key_serde=S, value_serde=J))
    return b.build()


settings = Settings.from_env()
runtime = FaustRuntime(build(settings.topic_prefix), settings)
app = runtime.app
