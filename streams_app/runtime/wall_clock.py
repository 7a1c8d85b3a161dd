"""Wall-clock punctuation on a worker: fires the tasks' due WALL_CLOCK_TIME punctuators.

Kafka Streams checks wall-clock punctuators on every turn of its polling loop, whether
records arrived or not. Here a worker task checks every :data:`WALL_CLOCK_TICK_S`; the
records a punctuator forwards go through the task's record collector (under exactly-once
inside the open transaction, holding its lock like a batch handler).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from streams_app.runtime.task import StreamTask

__all__ = ["WALL_CLOCK_TICK_S", "due_tasks", "run_wall_clock_punctuation"]

log = logging.getLogger(__name__)

#: How often due wall-clock punctuators are looked for: their firing jitter.
WALL_CLOCK_TICK_S = 0.02


def due_tasks(tasks: Iterable[StreamTask], now_ms: int) -> list[StreamTask]:
    """The tasks with a wall-clock punctuation due at ``now_ms``."""
    due = []
    for task in tasks:
        at = task.next_wall_clock_punctuation()
        if at is not None and at <= now_ms:
            due.append(task)
    return due


async def run_wall_clock_punctuation(tasks: Callable[[], Iterable[StreamTask]],
                                     fire: Callable[[list[StreamTask]], Awaitable[None]],
                                     should_stop: Callable[[], bool]) -> None:
    """Until ``should_stop()``: ``await fire(due tasks)`` whenever some are due."""
    while not should_stop():
        due = due_tasks(tasks(), int(time.time() * 1000))
        if due:
            try:
                await fire(due)
            except Exception:  # a punctuator's failure must not end punctuation
                log.exception("wall-clock punctuation failed")
        await asyncio.sleep(WALL_CLOCK_TICK_S)
