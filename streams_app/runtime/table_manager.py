"""The Faust table manager and recovery of every streams_app app.

Restore allocates a few objects per changelog record (aiokafka's record, the fetched
record tuple) and holds a whole fetch of them (~35k per partition) while writing it. None
of them is part of a reference cycle, yet the cyclic collector walked every one of them
again and again as they aged through its generations: about a third of a 1M-key restore
(bench.restore). So the collector pauses from a rebalance until its recovery has read
every changelog, and resumes before processing starts; reference counting still frees
each fetch as soon as it is written.
"""

from __future__ import annotations

import gc
from typing import Any

from faust.tables.recovery import Recovery
from faust.types import TP

from streams_app.runtime.faust_compat import TableManagerBase

__all__ = ["StreamsRecovery", "StreamsTableManager"]


class StreamsRecovery(Recovery):
    """Faust's recovery with the cyclic garbage collector paused while it restores."""

    _paused_gc = False

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP],
                           newly_assigned: set[TP], generation_id: int = 0) -> None:
        """A recovery starts: pause the collector (unless someone else turned it off).

        Without tables Faust resumes the streams without completing a recovery: no pause.
        """
        if self.tables and gc.isenabled():
            gc.disable()
            self._paused_gc = True
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)

    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        """Every changelog is read: the collector runs again before processing starts."""
        self.resume_gc()
        await super().on_recovery_completed(generation_id)

    def resume_gc(self) -> None:
        """Turn the collector back on if this recovery paused it."""
        if self._paused_gc:
            self._paused_gc = False
            gc.enable()

    async def on_stop(self) -> None:
        """Stopped mid-restore: the collector must not stay off."""
        self.resume_gc()
        await super().on_stop()


class StreamsTableManager(TableManagerBase):
    """Faust's table manager without its start-up sleep, with :class:`StreamsRecovery`."""

    Recovery: Any = StreamsRecovery
