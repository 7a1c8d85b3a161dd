"""The Faust table manager of every streams_app app (see :class:`TableManagerBase`)."""

from __future__ import annotations

from streams_app.runtime.faust_compat import TableManagerBase

__all__ = ["StreamsTableManager"]


class StreamsTableManager(TableManagerBase):
    """Faust's table manager without its start-up sleep (Faust's own recovery)."""
