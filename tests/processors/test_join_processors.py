"""Join processors driven directly: value getters, table-table sides, FK wrappers and hashes."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app.processors import Change, Record
from streams_app.processors.fk_join import (
    DELETE_KEY_AND_PROPAGATE,
    DELETE_KEY_NO_PROPAGATE,
    PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE,
    PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE,
    ResponseJoin,
    ResponseWrapper,
    ResponseWrapperSerde,
    SubscriptionSend,
    SubscriptionWrapper,
    SubscriptionWrapperSerde,
    value_hash,
)
from streams_app.processors.joins import (
    INNER,
    LEFT,
    OUTER,
    RIGHT,
    JoinValueGetter,
    KTableKTableJoin,
    StoreValueGetter,
)
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.state import InMemoryKeyValueStore, ValueAndTimestamp


class Ctx:
    """Stores by name, forwarded records in order, the runtime's default serdes."""

    topic, partition, offset, timestamp, headers = "t", 3, 0, 0, ()

    def __init__(self, **stores: Any) -> None:
        self.stores = stores
        self.forwarded: list[Record] = []
        self.config = type("Cfg", (), {"default_key_serde": StringSerde(),
                                       "default_value_serde": JsonSerde()})()

    def get_state_store(self, name: str) -> Any:
        return self.stores[name]

    def forward(self, record: Record, child: str | None = None) -> None:
        self.forwarded.append(record)


def store(**rows: tuple[Any, int]) -> InMemoryKeyValueStore:
    s = InMemoryKeyValueStore("s")
    for k, (v, ts) in rows.items():
        s.put(k, ValueAndTimestamp(v, ts))
    return s


def pair(a: Any, b: Any) -> tuple[Any, Any]:
    return (a, b)


@pytest.mark.parametrize(("kind", "expected"), [
    (INNER, {"both": ((1, 2), 7), "left_only": None, "right_only": None}),
    (LEFT, {"both": ((1, 2), 7), "left_only": ((3, None), 4), "right_only": None}),
    (RIGHT, {"both": ((1, 2), 7), "left_only": None, "right_only": ((None, 5), 6)}),
    (OUTER, {"both": ((1, 2), 7), "left_only": ((3, None), 4), "right_only": ((None, 5), 6)}),
])
def test_join_value_getter(kind: str, expected: dict[str, Any]) -> None:
    ctx = Ctx(l=store(both=(1, 7), left_only=(3, 4)), r=store(both=(2, 1), right_only=(5, 6)))
    getter = JoinValueGetter(kind, StoreValueGetter("l"), StoreValueGetter("r"), pair)
    getter.init(ctx)  # type: ignore[arg-type]
    for key, want in expected.items():
        got = getter.get(key)
        assert (None if got is None else (got.value, got.timestamp)) == want, key
    assert getter.get("missing") is None


def test_table_join_side_old_values_only_when_asked() -> None:
    ctx = Ctx(r=store(a=(10, 9)))
    for send_old, old in ((False, None), (True, (1, 10))):
        ctx.forwarded.clear()
        p = KTableKTableJoin(INNER, StoreValueGetter("r"), pair, send_old)
        p.init(ctx)  # type: ignore[arg-type]
        p.process(Record("a", Change(2, 1), 5))
        p.process(Record("b", Change(2, 1), 5))  # no partner: inner drops it
        p.process(Record(None, Change(2, 1), 5))  # null key: dropped
        assert ctx.forwarded == [Record("a", Change((2, 10), old), 9)]


def test_right_side_of_left_join_emits_left_only_result_on_delete() -> None:
    ctx = Ctx(l=store(a=(1, 3)))
    p = KTableKTableJoin(RIGHT, StoreValueGetter("l"), lambda r, lv: (lv, r))
    p.init(ctx)  # type: ignore[arg-type]
    p.process(Record("a", Change(None, None), 8))
    assert ctx.forwarded == [Record("a", Change((1, None), None), 8)]


def test_wrapper_serdes_round_trip_and_bind_defaults() -> None:
    sub = SubscriptionWrapperSerde(None).bind_defaults(StringSerde(), JsonSerde())
    for w in (SubscriptionWrapper(b"h" * 16, 2, "pk", 3), SubscriptionWrapper(None, 1, "é", None)):
        assert sub.deserialize(sub.serialize(w)) == w
    resp = ResponseWrapperSerde(None).bind_defaults(StringSerde(), JsonSerde())
    for r in (ResponseWrapper(b"x" * 16, {"a": 1}, 0), ResponseWrapper(None, None, None)):
        assert resp.deserialize(resp.serialize(r)) == r
    with pytest.raises(AssertionError):
        SubscriptionWrapperSerde(None).serialize(SubscriptionWrapper(None, 1, "k", 0))


def sent(left_join: bool, change: Change) -> list[tuple[Any, int]]:
    ctx = Ctx()
    p = SubscriptionSend(lambda k, v: v and v.get("fk"), left_join, None, None)
    p.init(ctx)  # type: ignore[arg-type]
    p.process(Record("pk", change, 1))
    assert all(r.value.partition == 3 and r.value.primary_key == "pk" for r in ctx.forwarded)
    return [(r.key, r.value.instruction) for r in ctx.forwarded]


def test_subscription_instructions_inner_join() -> None:
    a, b, none = {"fk": "a"}, {"fk": "b"}, {"fk": None}
    assert sent(False, Change(a, None)) == [("a", PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE)]
    assert sent(False, Change(a, a)) == [("a", PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE)]
    assert sent(False, Change(b, a)) == [("a", DELETE_KEY_NO_PROPAGATE),
                                         ("b", PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)]
    assert sent(False, Change(none, a)) == [("a", DELETE_KEY_AND_PROPAGATE)]
    assert sent(False, Change(None, a)) == [("a", DELETE_KEY_AND_PROPAGATE)]
    assert sent(False, Change(none, None)) == []


def test_subscription_instructions_left_join() -> None:
    a, b, none = {"fk": "a"}, {"fk": "b"}, {"fk": None}
    assert sent(True, Change(none, None)) == [(None, PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)]
    assert sent(True, Change(b, a)) == [("a", DELETE_KEY_NO_PROPAGATE),
                                        ("b", PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)]
    assert sent(True, Change(None, a)) == [("a", DELETE_KEY_NO_PROPAGATE),
                                           (None, PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE)]


def test_response_for_an_outdated_left_row_is_dropped() -> None:
    serde = JsonSerde()
    ctx = Ctx(l=store(pk=({"fk": "b"}, 1)))
    p = ResponseJoin(StoreValueGetter("l"), None, pair, False)
    p.init(ctx)  # type: ignore[arg-type]
    stale = ResponseWrapper(value_hash(serde, {"fk": "a"}), "A", 0)
    current = ResponseWrapper(value_hash(serde, {"fk": "b"}), "B", 0)
    p.process(Record("pk", stale, 2))
    p.process(Record("pk", current, 3))
    p.process(Record("pk", ResponseWrapper(current.hash, None, 0), 4))  # inner: tombstone
    assert ctx.forwarded == [Record("pk", ({"fk": "b"}, "B"), 3), Record("pk", None, 4)]
