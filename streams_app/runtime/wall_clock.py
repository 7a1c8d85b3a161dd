"""Wall-clock punctuation on a worker: fires the tasks' due WALL_CLOCK_TIME punctuators.

Kafka Streams checks wall-clock punctuators on every turn of its polling loop, whether
records arrived or not. Here a worker task checks every :data:`WALL_CLOCK_TICK_S`; the
records a punctuator forwards go through the task's record collector (under exactly-once
inside the open transaction, holding its lock like a batch handler). Without any
wall-clock schedule it looks again every :data:`WALL_CLOCK_IDLE_S` only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from streams_app.runtime.task import StreamTask

__all__ = ["WALL_CLOCK_IDLE_S", "WALL_CLOCK_TICK_S", "due_tasks",
           "run_wall_clock_punctuation"]

log = logging.getLogger(__name__)

#: How often due wall-clock punctuators are looked for at most: their firing jitter.
WALL_CLOCK_TICK_S = 0.02
#: How often tasks are looked at while none has a wall-clock schedule (new tasks appear).
WALL_CLOCK_IDLE_S = 0.25


def due_tasks(tasks: Iterable[StreamTask], now_ms: int) -> tuple[list[StreamTask], int | None]:
    """The tasks with a wall-clock punctuation due at ``now_ms``, and the earliest time one
    of the others is due (None without any)."""
    due, later = [], None
    for task in tasks:
        at = task.next_wall_clock_punctuation()
        if at is None:
            continue
        if at <= now_ms:
            due.append(task)
        elif later is None or at < later:
            later = at
    return due, later


async def run_wall_clock_punctuation(tasks: Callable[[], Iterable[StreamTask]],
                                     fire: Callable[[list[StreamTask]], Awaitable[None]],
                                     should_stop: Callable[[], bool]) -> None:
    """Until ``should_stop()``: ``await fire(due tasks)`` whenever some are due."""
    while not should_stop():
        now = int(time.time() * 1000)
        due, later = due_tasks(tasks(), now)
        if due:
            try:
                await fire(due)
            except Exception:  # a punctuator's failure must not end punctuation
                log.exception("wall-clock punctuation failed")
            later = now  # fired ones were rescheduled: look again soon
        wait = WALL_CLOCK_IDLE_S if later is None else (later - now) / 1000
        await asyncio.sleep(min(max(wait, WALL_CLOCK_TICK_S), WALL_CLOCK_IDLE_S))
