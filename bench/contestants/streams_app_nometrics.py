"""streams_app with STREAMS_METRICS_ENABLED=false: the baseline of bench.metrics_overhead."""

from __future__ import annotations

from bench.common import RunConfig, RunResult
from bench.contestants import streams_app


def run(cfg: RunConfig) -> RunResult:
    """The streams_app contestant with metrics off."""
    return streams_app.run(cfg, metrics_enabled=False)
