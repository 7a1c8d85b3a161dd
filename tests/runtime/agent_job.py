"""A worker module: a streams_app topology and a plain Faust agent in one app.

The topology counts ``<prefix>words`` per key into ``<prefix>word-counts``; the agent, written
as any Faust user would, upper-cases ``<prefix>shout-in`` into ``<prefix>shout-out``.
"""

from streams_app import Serdes, StreamsBuilder
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

settings = Settings.from_env()
prefix = settings.topic_prefix

builder = StreamsBuilder()
(builder.stream(f"{prefix}words", key_serde=Serdes.string(), value_serde=Serdes.string())
 .group_by_key().count().to_stream()
 .to(f"{prefix}word-counts", key_serde=Serdes.string(), value_serde=Serdes.long()))
app = FaustRuntime(builder.build(), settings).app

RAW = {"key_type": str, "value_type": str, "key_serializer": "raw", "value_serializer": "raw"}
shout_in = app.topic(f"{prefix}shout-in", **RAW)
shout_out = app.topic(f"{prefix}shout-out", **RAW)


@app.agent(shout_in)
async def shout(stream):
    async for key, value in stream.items():
        await shout_out.send(key=key, value=value.upper())
