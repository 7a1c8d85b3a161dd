"""The query endpoints of a Faust worker: its stores, its router, the HTTP routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streams_app.query.http import QueryApi
from streams_app.query.routing import runtime_router
from streams_app.query.stores import RuntimeStores

if TYPE_CHECKING:
    from streams_app.runtime.faust_runtime import FaustRuntime

__all__ = ["query_api"]


def query_api(runtime: FaustRuntime) -> QueryApi:
    """The worker's :class:`QueryApi`; ``query_api(runtime).install`` is the route
    installer the web server takes."""
    stores = RuntimeStores(runtime)
    return QueryApi(stores, runtime_router(runtime, stores))
