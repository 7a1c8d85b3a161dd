"""Offsets are committed on the commit interval only, as Kafka Streams' commit.interval.ms:
no commit every N records (Faust's broker_commit_every), however many are processed."""

from __future__ import annotations

from faust.types import TP

from streams_app import Serdes, StreamsBuilder
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings


def test_processed_records_never_ask_for_a_commit(tmp_path) -> None:
    builder = StreamsBuilder()
    builder.stream("in", key_serde=Serdes.string(), value_serde=Serdes.string()).to("out")
    settings = Settings.from_env(env={}, bootstrap_servers="localhost:9", app_id="commits",
                                 data_dir=str(tmp_path))
    consumer = FaustRuntime(builder.build(), settings).app.consumer
    tp = TP("in", 0)
    # Faust's default would ask at 10,000 acknowledged records
    assert not any(consumer.mark_acked(tp, 5_000) for _ in range(200))
