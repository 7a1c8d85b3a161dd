"""The Faust/aiokafka seam: its name check passes on the pinned libraries and names what
is missing, with the installed versions, when a name goes away."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

import streams_app
from streams_app.runtime import faust_compat
from streams_app.runtime.faust_compat import FaustCompatError, RequiredName, check


def test_check_passes_on_the_installed_libraries() -> None:
    check()
    assert len(faust_compat.REQUIRED) > 30


class _Consumer:
    def __init__(self) -> None:
        self._read_offset: dict[str, int] = {}

    def _commit_tps(self, tps: list[str], start_new_transaction: bool) -> bool:
        return True


def test_check_names_a_missing_method_and_the_versions() -> None:
    class Renamed(_Consumer):
        _commit_tps = None  # type: ignore[assignment]

    with pytest.raises(FaustCompatError) as err:
        check([RequiredName(Renamed, "_commit_tps", "method"),
               RequiredName(Renamed, "_read_offset", "attribute")])
    msg = str(err.value)
    assert "Renamed._commit_tps" in msg and "_read_offset" not in msg
    for dist in ("faust-streaming", "aiokafka", "mode-streaming"):
        assert f"{dist} {metadata.version(dist)}" in msg


def test_check_names_a_missing_attribute_and_a_changed_signature() -> None:
    with pytest.raises(FaustCompatError) as err:
        check([RequiredName(_Consumer, "_read_offset", "attribute"),
               RequiredName(_Consumer, "_acked", "attribute"),
               RequiredName(_Consumer, "_commit_tps", "method", ("tps", "start_new_transaction")),
               RequiredName(_Consumer, "_commit_tps", "method", ("offsets",))])
    msg = str(err.value)
    assert "attribute" in msg and "_Consumer._acked is missing" in msg
    assert "takes ['tps', 'start_new_transaction'], expected ['offsets'] first" in msg
    assert msg.count("_Consumer.") == 2


def test_check_names_a_missing_module_level_name() -> None:
    from aiokafka.consumer import fetcher

    check([RequiredName(fetcher, "MemoryRecords", "attribute")])
    with pytest.raises(FaustCompatError, match=r"attribute aiokafka\.consumer\.fetcher\."
                                                r"NoSuchRecords is missing"):
        check([RequiredName(fetcher, "NoSuchRecords", "attribute")])


def test_the_module_table_is_what_check_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faust_compat, "REQUIRED",
                        [*faust_compat.REQUIRED, RequiredName(_Consumer, "_gone", "method")])
    with pytest.raises(FaustCompatError, match=r"_Consumer\._gone is missing"):
        check()


def test_no_other_module_names_a_faust_or_aiokafka_private() -> None:
    private = ("_drain_messages", "_read_offset", "_n_acked", "_buffered_partitions",
               "_new_offset", "_commit_tps", "_consumer_record", "_fetch_max_wait_ms",
               "_isolation_level", "_ensure_producer", "_settings_default",
               "_wait_on_metadata", "_db_for_partition", "_wait_next_records", "_acked",
               "_changelog_topic_name", "_create_worker_consumer", "_subscription")
    named = re.compile(rf"\b({'|'.join(private)})\b")
    root = Path(streams_app.__file__).parent
    offenders = {str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "faust_compat.py" and named.search(p.read_text())}
    assert not offenders
