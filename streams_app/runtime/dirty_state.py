"""Local state after an unclean stop under exactly-once: thrown away, restored from changelogs.

Between two commits the stores take writes whose changelog records sit in the open
transaction. After a crash that transaction is aborted, so the local databases hold writes
the changelogs never will; replaying the changelog over them cannot undo writes to keys it
does not mention. Like Kafka Streams under exactly-once, a worker that did not stop cleanly
wipes its stores at start-up and restores them whole. A clean stop (last transaction
committed) leaves a marker file; start-up removes it, so a crash leaves none.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

__all__ = ["discard_unless_clean", "mark_clean"]

log = logging.getLogger(__name__)


def _marker(data_dir: Path, app_id: str) -> Path:
    return Path(data_dir) / f"{app_id}.clean-shutdown"


def discard_unless_clean(data_dir: Path, app_id: str, store_dir: Path) -> bool:
    """Delete ``store_dir`` unless the last run left its clean-stop marker; True if deleted."""
    marker = _marker(data_dir, app_id)
    if marker.exists():
        marker.unlink()
        return False
    if not Path(store_dir).exists():
        return False
    log.warning("exactly_once: %s did not stop cleanly; its stores %s are restored from the "
                "changelogs", app_id, store_dir)
    shutil.rmtree(store_dir)
    return True


def mark_clean(data_dir: Path, app_id: str) -> None:
    """Record that every local write is in a committed transaction."""
    marker = _marker(data_dir, app_id)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
