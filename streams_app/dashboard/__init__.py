"""The live dashboard each worker serves at ``/`` (``STREAMS_DASHBOARD_ENABLED``, on with the
web server): the topology graph, per-task lag and process rate, restore progress, a table
browser over the store query API, window timelines and the latest dead letters.

:func:`dashboard_routes` gives the route installers for
:func:`~streams_app.runtime.observe.install_observability`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streams_app.dashboard.routes import DashboardRoutes
from streams_app.dashboard.status import StatusFeed, StatusSource
from streams_app.runtime.metrics import StreamsMetrics
from streams_app.runtime.web import RouteInstaller

if TYPE_CHECKING:
    from streams_app.runtime.faust_runtime import FaustRuntime

__all__ = ["DashboardRoutes", "StatusFeed", "StatusSource", "dashboard_routes"]


def dashboard_routes(runtime: FaustRuntime, metrics: StreamsMetrics) -> list[RouteInstaller]:
    """The dashboard's installer for ``runtime``'s web server; none when it is turned off."""
    if not (runtime.settings.web_enabled and runtime.settings.dashboard_enabled):
        return []
    topology = runtime.topology
    subtopology_of = {topology.topic_name(topic, runtime.app_id): sub.id
                      for sub in runtime.subtopologies for topic in sub.source_topics}
    source = StatusSource(runtime.app_id, metrics, subtopology_of,
                          lambda: runtime.errors.recent, runtime.dead_letter_topic)
    return [DashboardRoutes(topology, StatusFeed(source))]
