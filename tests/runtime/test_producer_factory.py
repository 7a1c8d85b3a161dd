"""The runtime's producers are idempotent by default (with acks=all) and as configured."""

from __future__ import annotations

import pytest

from streams_app.runtime.producer_factory import new_producer
from streams_app.settings import Settings

BASE = {"bootstrap_servers": "localhost:9"}  # never started


async def test_idempotent_by_default() -> None:
    # aiokafka refuses acks=1 on an idempotent producer: proof that idempotence is on.
    with pytest.raises(ValueError, match="enable_idempotence=True"):
        new_producer(Settings(), BASE, acks=1)
    await new_producer(Settings(), BASE).stop()


async def test_not_idempotent_when_off_or_acks_below_all() -> None:
    for settings in (Settings(enable_idempotence=False), Settings(acks="1")):
        producer = new_producer(settings, BASE, acks=1)  # accepted: idempotence is off
        await producer.stop()
