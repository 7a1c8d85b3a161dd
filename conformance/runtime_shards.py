"""Runs scenarios through the Faust runtime in several processes at once, against one broker.

A scenario's time on the runtime is mostly waiting (the worker's group join, commits, the
progress polls), not CPU: shards in separate processes (each its own event loop and Faust
app, one scenario after another on fresh topics, as :mod:`conformance.runtime_report` runs
them) overlap those waits. Each child writes its verdicts as JSON; the parent keeps the
corpus order.

Child: ``python -m conformance.runtime_shards BOOTSTRAP NAME DATA_DIR NAMES_FILE OUT_FILE``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path

from conformance.runtime_report import RuntimeVerdict, verdict
from conformance.scenarios import CORPUS, Scenario, load_folder

JOBS_ENV = "CONFORMANCE_RUNTIME_JOBS"


def jobs(default: int) -> int:
    """Shard count: ``CONFORMANCE_RUNTIME_JOBS`` or ``default``."""
    raw = os.environ.get(JOBS_ENV, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{JOBS_ENV} must be a positive integer, got {raw!r}")
    return int(raw)


async def _run_shard(scenarios: list[Scenario], bootstrap: str, name: str,
                     data_dir: Path, progress: bool = False) -> list[RuntimeVerdict]:
    out = []
    data_dir.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(scenarios):
        out.append(await verdict(s, bootstrap=bootstrap, name=f"{name}-{i}",
                                 data_dir=data_dir / str(i)))
        if progress:  # into the shard's log, to follow a long run
            print(f"{i + 1}/{len(scenarios)} {s['name']} {out[-1].status}", flush=True)
    return out


async def run_parallel(scenarios: list[Scenario], *, bootstrap: str, name: str,
                       data_dir: Path, shards: int) -> list[RuntimeVerdict]:
    """Verdicts of ``scenarios`` (in their order), run by ``shards`` child processes; with
    one shard, in this process."""
    shards = max(1, min(shards, len(scenarios)))
    if shards == 1:
        return await _run_shard(scenarios, bootstrap, name, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    # Striding spreads each family (the corpus is sorted by topology) over every shard.
    parts = [scenarios[k::shards] for k in range(shards)]

    async def child(k: int) -> list[RuntimeVerdict]:
        names, out = data_dir / f"shard-{k}.names", data_dir / f"shard-{k}.json"
        names.write_text("\n".join(s["name"] for s in parts[k]), encoding="utf-8")
        with open(data_dir / f"shard-{k}.log", "wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "conformance.runtime_shards", bootstrap, f"{name}-{k}",
                str(data_dir / f"shard-{k}"), str(names), str(out),
                stdout=log, stderr=log)
            rc = await proc.wait()
        if rc != 0:
            raise RuntimeError(f"runtime shard {k} exited with {rc}; see {log.name}")
        return [RuntimeVerdict(**v) for v in json.loads(out.read_text(encoding="utf-8"))]

    # every child is awaited, failed or not: no shard process outlives the run
    results = await asyncio.gather(*(child(k) for k in range(shards)), return_exceptions=True)
    for part in results:  # the first failure in shard order
        if isinstance(part, BaseException):
            raise part
    by_name = {v.name: v for part in results for v in part}
    return [by_name[s["name"]] for s in scenarios]


def main(argv: list[str]) -> None:
    bootstrap, name, data_dir, names_file, out_file = argv
    wanted = Path(names_file).read_text(encoding="utf-8").split("\n")
    corpus = {s["name"]: s for s in load_folder(CORPUS)}
    verdicts = asyncio.run(_run_shard([corpus[n] for n in wanted], bootstrap, name,
                                      Path(data_dir), progress=True))
    Path(out_file).write_text(json.dumps([dataclasses.asdict(v) for v in verdicts]),
                              encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
