"""Run one contestant in this process: ``python -m bench.child <contestant> <RunConfig json>``."""

from __future__ import annotations

import importlib
import sys
import traceback

from bench.common import Missing, RunConfig, RunResult, peak_rss_mb
from bench.contestants import MODULES


def main(argv: list[str]) -> int:
    """Run the contestant and write its ``RunResult`` to ``cfg.out``; exit 0 unless it failed."""
    name, cfg = argv[0], RunConfig.from_json(argv[1])
    try:
        module = importlib.import_module(MODULES[name])
        result: RunResult = module.run(cfg)
    except Missing as exc:
        result = RunResult(status="missing", detail=str(exc))
    except Exception:  # noqa: BLE001 - reported to the harness, which shows it
        result = RunResult(status="error", detail=traceback.format_exc()[-4000:])
    if not result.peak_rss_mb:
        result.peak_rss_mb = peak_rss_mb()
    result.write(cfg.out)
    return 0 if result.status != "error" else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
