"""Garbage-collector tuning for a worker process."""

from __future__ import annotations

import gc

__all__ = ["GC_GEN0_THRESHOLD", "tune_gc"]

# Allocations between gen-0 collections in a worker (Python's default: 700).
GC_GEN0_THRESHOLD = 10_000


async def tune_gc() -> None:
    """Once the worker runs: keep the collector off the start-up heap, collect less often.

    Processing allocates a few short-lived objects per record; with Python's default
    gen-0 threshold (700) the collector ran every ~100 records and its older
    generations kept walking Faust's and aiokafka's long-lived objects.
    """
    gc.collect()
    gc.freeze()  # objects alive now are never scanned again
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
