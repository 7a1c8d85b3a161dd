"""Dead letters: records whose processing raised, with the error and their source."""

from __future__ import annotations

import logging
import time
from typing import Any

from streams_app.runtime.record_collector import OutputRecord

__all__ = ["dead_letter_records"]

log = logging.getLogger(__name__)


def dead_letter_records(topic: str, dead: list[tuple[Any, BaseException]],
                        now_ms: int | None = None) -> list[OutputRecord]:
    """One record for ``topic`` per ``(fetched record, error)``: original key, value and
    headers, plus ``error``, ``source`` (topic/partition/offset) and ``source_timestamp``.

    Stamped with the failure time: an old event timestamp would let the topic's
    time-based retention delete the dead letter at once.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    out: list[OutputRecord] = []
    for r, exc in dead:
        log.warning("dead letter %s/%s/%s: %r", r.topic, r.partition, r.offset, exc)
        headers = [*(r.headers or ()),
                   ("error", f"{type(exc).__name__}: {exc}".encode()),
                   ("source", f"{r.topic}/{r.partition}/{r.offset}".encode()),
                   ("source_timestamp", str(r.timestamp).encode())]
        out.append((topic, r.key, r.value, now_ms, headers))
    return out
