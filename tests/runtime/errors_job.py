"""A worker module for the error-handler tests: ``<prefix>in`` -> ``<prefix>out`` (JSON).

A value ``{"boom": true}`` makes the processor raise; ``{"pad": n}`` makes an output value of
``n`` bytes (too large for a topic with a smaller ``max.message.bytes``). Everything else is
passed through with ``"seen": true`` added.
"""

from streams_app import Serdes, StreamsBuilder
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings


def transform(value: dict) -> dict:
    if value.get("boom"):
        raise RuntimeError(f"boom for id {value.get('id')}")
    if "pad" in value:
        return {**value, "padding": "x" * value["pad"]}
    return {**value, "seen": True}


settings = Settings.from_env()
prefix = settings.topic_prefix
builder = StreamsBuilder()
(builder.stream(f"{prefix}in", key_serde=Serdes.string(), value_serde=Serdes.json())
 .map_values(transform)
 .to(f"{prefix}out", key_serde=Serdes.string(), value_serde=Serdes.json()))
app = FaustRuntime(builder.build(), settings).app
