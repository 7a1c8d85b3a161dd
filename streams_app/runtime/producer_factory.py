"""The runtime's aiokafka producers: made in one place, from the settings.

Both the at-least-once worker producer (:class:`WorkerProducer`) and the exactly-once
transactional one (:class:`~streams_app.runtime.transactions.WorkerTransaction`) come from
:func:`new_producer`: the Faust app producer's connection settings, the acks setting and
idempotence (``STREAMS_ENABLE_IDEMPOTENCE``; on by default with acks=all, so a retried
produce request cannot write a record twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiokafka import AIOKafkaProducer

from streams_app.settings import Settings

__all__ = ["WorkerProducer", "new_producer"]

log = logging.getLogger(__name__)


def new_producer(settings: Settings, base: Mapping[str, Any], **overrides: Any
                 ) -> AIOKafkaProducer:
    """An aiokafka producer with ``base`` connection settings, the configured acks and
    idempotence, then ``overrides``."""
    config = {**base, "acks": "all" if settings.acks == "all" else int(settings.acks),
              "enable_idempotence": settings.idempotent, **overrides}
    return AIOKafkaProducer(**config)


class WorkerProducer:
    """The worker's producer under at-least-once: started with the worker (a start-up
    check), stopped after the consumer's last commit."""

    def __init__(self, settings: Settings, base: Callable[[], Mapping[str, Any]]) -> None:
        self.settings = settings
        self._base = base
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create and start the producer."""
        producer = new_producer(self.settings, self._base())
        await producer.start()
        self.producer = producer
        log.info("producer started (idempotent: %s)", self.settings.idempotent)

    async def stop(self) -> None:
        """Stop the producer (what it holds unsent is dropped: commits flushed it)."""
        producer, self.producer = self.producer, None
        if producer is not None:
            await producer.stop()
