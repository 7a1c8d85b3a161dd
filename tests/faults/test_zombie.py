"""Zombie fencing (issue 14, defect 6), on the real broker: one of two exactly_once workers
is paused (SIGSTOP) past its session timeout; the other takes its partitions and commits
them; the paused one wakes (SIGCONT) with a transaction open for partitions it lost. Its
offset commit carries its old generation, so the group coordinator rejects it: no count is
published twice."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from chaos.scenarios import zombie
from streams_app.kafka.broker import Broker


def test_paused_worker_cannot_commit_for_lost_partitions(kafka: Broker, tmp_path: Path) -> None:
    result = asyncio.run(zombie(kafka, tmp_path, random.Random(14)))  # type: ignore[arg-type]
    print(result.line)
    assert result.verdict.duplicated == 0, result.line
    assert result.verdict.lost == 0, result.line
    log = (tmp_path / "worker-0.log").read_text(errors="replace").splitlines()
    fenced = [line for line in log if "fenced this member's transactional offset commit" in line]
    assert fenced, "the paused worker's commit was not fenced"
    # One failed commit, then none: the revocation's and the stop's commits used to hit the
    # producer's error state (IllegalOperation, invalid state transition), each a traceback.
    failed = [line for line in log if "[ERROR]" in line and "exactly_once:" in line]
    assert len(failed) == 1, "\n".join(failed)
