"""``streams-app status``: the workers' ``/metrics`` read and summed up for an operator.

Per worker: ready or not, process rate, processed records, tasks, commits; per input
partition: the lag; per store: restore progress. Reads only what the workers serve
(:mod:`streams_app.runtime.metrics`), so it works against any scrape-able worker.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["WorkerStatus", "fetch_status", "format_status", "metrics_url", "parse_metrics"]

TIMEOUT_S = 5.0


class StatusError(RuntimeError):
    """A worker's /metrics cannot be read."""


@dataclass
class WorkerStatus:
    """What one worker's /metrics says."""

    url: str
    app_id: str = "?"
    ready: bool = False
    process_rate: float = 0.0
    processed: float = 0.0
    tasks: int = 0
    commits: float = 0.0
    rebalances: float = 0.0
    dropped: float = 0.0
    lag: dict[tuple[str, int], float] = field(default_factory=dict)
    restore_ratio: dict[str, float] = field(default_factory=dict)
    restore_remaining: dict[str, float] = field(default_factory=dict)
    restored: dict[str, float] = field(default_factory=dict)
    restore_seconds: dict[str, float] = field(default_factory=dict)


def metrics_url(url: str) -> str:
    """``host:port`` or a base URL -> its ``/metrics`` URL."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    return url if url.endswith("/metrics") else f"{url}/metrics"


def parse_metrics(url: str, text: str) -> WorkerStatus:
    """A :class:`WorkerStatus` from the exposition ``text`` of the worker at ``url``."""
    status = WorkerStatus(url)
    remaining: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, s.value
            if name == "streams_app_info":
                status.app_id = labels.get("application_id", "?")
            elif name == "streams_ready":
                status.ready = value >= 1
            elif name == "streams_process_rate":
                status.process_rate = value
            elif name == "streams_process_total":
                status.processed += value
            elif name == "streams_active_task_count":
                status.tasks = int(value)
            elif name == "streams_commit_total":
                status.commits = value
            elif name == "streams_rebalances_total":
                status.rebalances = value
            elif name == "streams_dropped_records_total":
                status.dropped += value
            elif name == "streams_records_lag":
                status.lag[(labels["topic"], int(labels["partition"]))] = value
            elif name == "streams_restore_progress_ratio":
                status.restore_ratio[labels["store"]] = value
            elif name == "streams_restore_remaining_records":
                remaining[labels["store"]] += value
            elif name == "streams_restore_records_total":
                status.restored[labels["store"]] = value
            elif name == "streams_restore_seconds":
                status.restore_seconds[labels["store"]] = value
    status.restore_remaining = dict(remaining)
    return status


def fetch_status(url: str, timeout: float = TIMEOUT_S) -> WorkerStatus:
    """Read and parse the worker's ``/metrics``; :class:`StatusError` naming the URL."""
    target = metrics_url(url)
    try:
        with urllib.request.urlopen(target, timeout=timeout) as response:  # noqa: S310
            text = response.read().decode()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise StatusError(f"cannot read {target}: {reason}") from None
    try:
        return parse_metrics(target, text)
    except ValueError as exc:
        raise StatusError(f"{target} did not answer Prometheus metrics: {exc}") from None


def format_status(workers: Iterable[WorkerStatus]) -> str:
    """The report: one block per worker, lag per partition, restore per store."""
    lines: list[str] = []
    total_lag = 0.0
    for w in workers:
        lines.append(f"{w.url}  app {w.app_id}  {'READY' if w.ready else 'NOT READY'}")
        lines.append(f"  process rate {w.process_rate:.1f}/s  processed {w.processed:.0f}  "
                     f"tasks {w.tasks}  commits {w.commits:.0f}  rebalances "
                     f"{w.rebalances:.0f}  dropped {w.dropped:.0f}")
        if w.lag:
            lines.append("  lag:")
            for (topic, partition), lag in sorted(w.lag.items()):
                lines.append(f"    {topic}[{partition}]  {lag:.0f}")
                total_lag += lag
        for store in sorted(set(w.restore_ratio) | set(w.restored)):
            ratio = w.restore_ratio.get(store, 0.0)
            lines.append(
                f"  restore {store}: {100 * ratio:.0f}%  restored "
                f"{w.restored.get(store, 0):.0f}  remaining "
                f"{w.restore_remaining.get(store, 0):.0f}  "
                f"{w.restore_seconds.get(store, 0):.1f} s")
    lines.append(f"total lag {total_lag:.0f}")
    return "\n".join(lines) + "\n"
