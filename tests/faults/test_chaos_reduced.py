"""The reduced chaos set run by ``make test`` (``make chaos`` runs every scenario): SIGKILLs
at random points (seeded) under exactly_once, with a restart on an emptied data dir, and
SIGTERMs mid-stream; each must end exact (read_committed output against the input)."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from chaos.scenarios import kill_loop, sigterm_midstream
from streams_app.kafka.broker import Broker

SEED = 14


def test_kill_loop_exactly_once(kafka: Broker, tmp_path: Path) -> None:
    result = asyncio.run(kill_loop(kafka, tmp_path, random.Random(SEED),  # type: ignore[arg-type]
                                   guarantee="exactly_once", kills=3, wipe_every=2,
                                   records=5000))
    print(result.line)
    assert (result.verdict.lost, result.verdict.duplicated) == (0, 0), result.line


def test_sigterm_midstream_exits_cleanly_and_resumes_exact(kafka: Broker,
                                                           tmp_path: Path) -> None:
    result = asyncio.run(sigterm_midstream(kafka, tmp_path,  # type: ignore[arg-type]
                                           random.Random(SEED), stops=2))
    print(result.line)
    assert (result.verdict.lost, result.verdict.duplicated) == (0, 0), result.line
