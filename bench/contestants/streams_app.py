"""streams_app: the DSL on the Faust runtime with batch consumption (the lead fills this in).

Until it exists every pipeline reports "missing". To implement: build a topology with
``streams_app.dsl`` for ``cfg.pipeline`` (see ``bench.contestants.raw_aiokafka`` for the exact
results each pipeline must report), run it with group id ``cfg.group_id`` from the earliest
offset, and return a ``RunResult`` with ``t_start``/``t_first``/``t_done``, ``records`` and
``results`` (``{result_key: count}`` as defined in ``bench.pipelines``). In latency mode
(``cfg.mode == "latency"``) call ``announce_ready()`` on the first record and append
``latency_ms(record_ts, t_ready)`` per record once its count is updated; the total to wait for
comes from ``TargetReader(cfg)``.
"""

from __future__ import annotations

from bench.common import Missing, RunConfig, RunResult


def run(cfg: RunConfig) -> RunResult:
    """Not implemented yet: reported as missing."""
    raise Missing("streams_app contestant not implemented yet (bench/contestants/streams_app.py)")
