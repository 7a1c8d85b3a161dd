"""Sharding the runtime conformance run over processes, without a broker: the shard count
setting and a failing shard surfacing in the parent."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import runtime_shards


def test_jobs_reads_the_setting_and_rejects_a_bad_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime_shards.JOBS_ENV, raising=False)
    assert runtime_shards.jobs(4) == 4
    monkeypatch.setenv(runtime_shards.JOBS_ENV, "3")
    assert runtime_shards.jobs(4) == 3
    monkeypatch.setenv(runtime_shards.JOBS_ENV, "0")
    with pytest.raises(ValueError, match=runtime_shards.JOBS_ENV):
        runtime_shards.jobs(4)


async def test_a_failing_shard_fails_the_run(tmp_path: Path) -> None:
    # Names outside the corpus: each child fails before it connects to any broker.
    bogus = [{"name": f"no-such-scenario-{i}"} for i in range(2)]
    with pytest.raises(RuntimeError, match="runtime shard 0 exited"):
        await runtime_shards.run_parallel(bogus, bootstrap="localhost:1", name="x",
                                          data_dir=tmp_path, shards=2)
    assert "no-such-scenario-0" in (tmp_path / "shard-0.log").read_text()
