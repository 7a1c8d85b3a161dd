"""Interactive queries: read a running job's stores, route a key to its worker, over HTTP.

* :mod:`.errors`: Kafka's ``InvalidStateStoreException`` cases.
* :mod:`.views`: read-only key-value, versioned, window and session views over a store's partitions.
* :mod:`.stores`: which stores and partitions a worker (or a test driver) can read.
* :mod:`.routing`: ``application_server`` and key -> worker, partition.
* :mod:`.keys`: URL key text -> the store's key, and values -> JSON.
* :mod:`.http`: the ``/stores`` endpoints on the worker's web server.
"""

from streams_app.query.errors import (
    InvalidStateStoreError,
    InvalidStateStorePartitionError,
    StateStoreMigratedError,
    StateStoreRestoringError,
    UnknownStateStoreError,
)
from streams_app.query.routing import KeyQueryMetadata
from streams_app.query.stores import DriverStores, QueryableStores, RuntimeStores
from streams_app.query.views import KeyValueView, SessionView, VersionedView, WindowView

__all__ = [
    "DriverStores",
    "InvalidStateStoreError",
    "InvalidStateStorePartitionError",
    "KeyQueryMetadata",
    "KeyValueView",
    "QueryableStores",
    "RuntimeStores",
    "SessionView",
    "StateStoreMigratedError",
    "StateStoreRestoringError",
    "UnknownStateStoreError",
    "VersionedView",
    "WindowView",
]
