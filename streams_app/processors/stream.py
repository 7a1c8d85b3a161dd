"""Stateless KStream operators (one small processor per DSL call, Kafka Streams' names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from streams_app.processors.api import Processor, Record

__all__ = [
    "KStreamMap",
    "KStreamSelectKey",
    "KStreamMapValues",
    "KStreamFilter",
    "KStreamFlatMap",
    "KStreamFlatMapValues",
    "KStreamBranch",
    "KStreamPeek",
    "KStreamPassThrough",
]


class KStreamMap(Processor):
    """``mapper(key, value) -> (new_key, new_value)``; also used by ``select_key``."""

    def __init__(self, mapper: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.mapper = mapper

    def process(self, record: Record) -> None:
        """Forward the mapped pair with the input's timestamp and headers."""
        key, value = self.mapper(record.key, record.value)
        self.context.forward(Record(key, value, record.timestamp, record.headers))


class KStreamSelectKey(Processor):
    """``selector(key, value) -> new_key`` (``select_key`` / ``group_by``'s key selection)."""

    def __init__(self, selector: Callable[[Any, Any], Any]) -> None:
        self.selector = selector

    def process(self, record: Record) -> None:
        """Forward the record under its new key."""
        value = record.value
        self.context.forward(Record(self.selector(record.key, value), value, record.timestamp,
                                    record.headers))


class KStreamMapValues(Processor):
    """``mapper(value)`` (or ``mapper(key, value)`` when ``with_key``); the key is kept."""

    def __init__(self, mapper: Callable[..., Any], with_key: bool = False) -> None:
        self.mapper = mapper
        self.with_key = with_key

    def process(self, record: Record) -> None:
        """Forward the record with its mapped value."""
        if self.with_key:
            value = self.mapper(record.key, record.value)
        else:
            value = self.mapper(record.value)
        self.context.forward(record.with_value(value))


class KStreamFilter(Processor):
    """Forward records for which ``predicate(key, value)`` is true (false when ``negate``)."""

    def __init__(self, predicate: Callable[[Any, Any], bool], negate: bool = False) -> None:
        self.predicate = predicate
        self.negate = negate

    def process(self, record: Record) -> None:
        """Forward matching records unchanged."""
        if bool(self.predicate(record.key, record.value)) is not self.negate:
            self.context.forward(record)


class KStreamFlatMap(Processor):
    """``mapper(key, value) -> iterable of (key, value)``, each forwarded in order."""

    def __init__(self, mapper: Callable[[Any, Any], Iterable[tuple[Any, Any]]]) -> None:
        self.mapper = mapper

    def process(self, record: Record) -> None:
        """Forward every produced pair."""
        forward = self.context.forward
        ts, headers = record.timestamp, record.headers
        for key, value in self.mapper(record.key, record.value):
            forward(Record(key, value, ts, headers))


class KStreamFlatMapValues(Processor):
    """``mapper(value) -> iterable of values`` (``mapper(key, value)`` when ``with_key``)."""

    def __init__(self, mapper: Callable[..., Iterable[Any]], with_key: bool = False) -> None:
        self.mapper = mapper
        self.with_key = with_key

    def process(self, record: Record) -> None:
        """Forward one record per produced value, keeping the key."""
        values = (
            self.mapper(record.key, record.value) if self.with_key else self.mapper(record.value)
        )
        forward = self.context.forward
        for value in values:
            forward(record.with_value(value))


class KStreamBranch(Processor):
    """Route each record to the child of the first matching predicate (Kafka's branch).

    ``predicates[i]`` guards ``children[i]``; a predicate of ``None`` matches everything
    (the default branch). Records matching nothing are dropped.
    """

    def __init__(
        self,
        predicates: Sequence[Callable[[Any, Any], bool] | None],
        children: Sequence[str],
    ) -> None:
        if len(predicates) != len(children):
            raise ValueError("KStreamBranch needs one child per predicate")
        self.routes = list(zip(predicates, children, strict=True))

    def process(self, record: Record) -> None:
        """Forward to the first branch whose predicate matches."""
        key, value = record.key, record.value
        for predicate, child in self.routes:
            if predicate is None or predicate(key, value):
                self.context.forward(record, child)
                return


class KStreamPeek(Processor):
    """Call ``action(key, value)``; forward the record unless it is a terminal ``foreach``."""

    def __init__(self, action: Callable[[Any, Any], Any], forward: bool = True) -> None:
        self.action = action
        self.forward_downstream = forward

    def process(self, record: Record) -> None:
        """Run the action, then pass the record on (peek) or stop (foreach)."""
        self.action(record.key, record.value)
        if self.forward_downstream:
            self.context.forward(record)


class KStreamPassThrough(Processor):
    """Forward records unchanged (merge points, repartition sources)."""

    def process(self, record: Record) -> None:
        """Forward the record."""
        self.context.forward(record)
