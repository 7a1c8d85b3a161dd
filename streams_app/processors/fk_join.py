"""Foreign-key table-table join (Kafka Streams' KIP-213 machinery).

The left table sends a subscription, keyed by the foreign key, through the subscription topic
to the right table's partition (``SubscriptionSend``). There it is stored under
``(foreign key, primary key)`` (``SubscriptionReceive``) and answered with the current right
row (``SubscriptionJoinForeign``); right table updates answer every subscriber
(``ForeignTableJoin``). Answers travel back through the response topic, keyed by the primary
key, and are joined with the current left row only if that row still hashes to what was sent
(``ResponseJoin``): a stale answer for an outdated left value is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams_app.processors.api import Change, Processor, ProcessorContext, Record
from streams_app.processors.suppliers import ValueGetter
from streams_app.serdes import Serde, resolve_serde
from streams_app.state.api import ValueAndTimestamp

__all__ = [
    "DELETE_KEY_NO_PROPAGATE",
    "DELETE_KEY_AND_PROPAGATE",
    "PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE",
    "PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE",
    "SubscriptionWrapper",
    "ResponseWrapper",
    "SubscriptionWrapperSerde",
    "ResponseWrapperSerde",
    "SubscriptionSend",
    "SubscriptionReceive",
    "SubscriptionJoinForeign",
    "ForeignTableJoin",
    "ResponseJoin",
    "combined_key",
]

log = logging.getLogger(__name__)

# subscription instructions (Kafka's SubscriptionWrapper.Instruction byte values)
DELETE_KEY_NO_PROPAGATE = 0
DELETE_KEY_AND_PROPAGATE = 1
PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE = 2
PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE = 3

_INT = struct.Struct(">i")


@dataclass(frozen=True)
class SubscriptionWrapper:
    """A left row's subscription: hash of its value, what to do, its key and partition."""

    hash: bytes | None
    instruction: int
    primary_key: Any
    partition: int | None


@dataclass(frozen=True)
class ResponseWrapper:
    """The right row's value for one subscriber, with the subscription's hash."""

    hash: bytes | None
    foreign_value: Any
    partition: int | None


def value_hash(serde: Serde, value: Any) -> bytes | None:
    """A 128-bit digest of the serialized value (Kafka uses Murmur3; only equality matters)."""
    if value is None:
        return None
    return hashlib.blake2b(serde.serialize(value) or b"", digest_size=16).digest()


def combined_key(fk_bytes: bytes, pk_bytes: bytes = b"") -> bytes:
    """``<fk length><fk><pk>``: subscriptions of one foreign key are one byte-ordered range."""
    return _INT.pack(len(fk_bytes)) + fk_bytes + pk_bytes


def _pack_opt(flag_set: bool, data: bytes) -> bytes:
    return (b"\x01" + _INT.pack(len(data)) + data) if flag_set else b"\x00"


class _BindableSerde(Serde):
    """A wrapper serde whose inner serde may be ``None`` = the application default."""

    inner: Serde | None

    def _with(self, inner: Serde) -> _BindableSerde:
        raise NotImplementedError

    def bind_defaults(self, key_serde: Serde, value_serde: Serde) -> _BindableSerde:
        """A copy whose missing inner serde is the runtime's default (key or value)."""
        if self.inner is not None:
            return self._with(resolve_serde(self.inner, "serde"))  # type: ignore[arg-type]
        return self._with(key_serde if self.uses_key_default else value_serde)

    uses_key_default = False


class SubscriptionWrapperSerde(_BindableSerde):
    """``instruction | hash? | partition | primary key`` (internal format)."""

    name = "subscription"
    uses_key_default = True

    def __init__(self, primary_key_serde: Serde | None) -> None:
        self.inner = primary_key_serde

    def _with(self, inner: Serde) -> SubscriptionWrapperSerde:
        return SubscriptionWrapperSerde(inner)

    def serialize(self, data: Any) -> bytes | None:
        """Encode a :class:`SubscriptionWrapper`."""
        if data is None:
            return None
        assert self.inner is not None
        part = -1 if data.partition is None else data.partition
        return (bytes([data.instruction]) + _pack_opt(data.hash is not None, data.hash or b"")
                + _INT.pack(part) + (self.inner.serialize(data.primary_key) or b""))

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a :class:`SubscriptionWrapper`."""
        if data is None:
            return None
        assert self.inner is not None
        instruction, pos, digest = data[0], 2, None
        if data[1]:
            (n,) = _INT.unpack_from(data, 2)
            digest, pos = bytes(data[6:6 + n]), 6 + n
        (part,) = _INT.unpack_from(data, pos)
        pk = self.inner.deserialize(bytes(data[pos + 4:]))
        return SubscriptionWrapper(digest, instruction, pk, None if part < 0 else part)


class ResponseWrapperSerde(_BindableSerde):
    """``hash? | partition | foreign value?`` (internal format)."""

    name = "subscription-response"

    def __init__(self, foreign_value_serde: Serde | None) -> None:
        self.inner = foreign_value_serde

    def _with(self, inner: Serde) -> ResponseWrapperSerde:
        return ResponseWrapperSerde(inner)

    def serialize(self, data: Any) -> bytes | None:
        """Encode a :class:`ResponseWrapper`."""
        if data is None:
            return None
        assert self.inner is not None
        part = -1 if data.partition is None else data.partition
        value = None if data.foreign_value is None else self.inner.serialize(data.foreign_value)
        return (_pack_opt(data.hash is not None, data.hash or b"") + _INT.pack(part)
                + _pack_opt(value is not None, value or b""))

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a :class:`ResponseWrapper`."""
        if data is None:
            return None
        assert self.inner is not None
        pos, digest = 1, None
        if data[0]:
            (n,) = _INT.unpack_from(data, 1)
            digest, pos = bytes(data[5:5 + n]), 5 + n
        (part,) = _INT.unpack_from(data, pos)
        pos += 4
        value = None
        if data[pos]:
            (n,) = _INT.unpack_from(data, pos + 1)
            value = self.inner.deserialize(bytes(data[pos + 5:pos + 5 + n]))
        return ResponseWrapper(digest, value, None if part < 0 else part)


def _serde(context: ProcessorContext, serde: Serde | None, which: str) -> Serde:
    """``serde``, or the runtime's default key/value serde."""
    if serde is not None:
        return resolve_serde(serde, which)  # type: ignore[return-value]
    config = getattr(context, "config", None)
    default = getattr(config, f"default_{which}", None)
    if default is None:
        raise ValueError(f"foreign-key join: no {which} given and no default in the context")
    return default


class SubscriptionSend(Processor):
    """Left table updates become subscription instructions keyed by the foreign key."""

    def __init__(self, extractor: Callable[[Any, Any], Any], left_join: bool,
                 fk_serde: Serde | None, value_serde: Serde | None,
                 use_versioned_semantics: bool = False) -> None:
        self.extractor = extractor
        self.left_join = left_join
        # a versioned left table's out-of-order updates subscribe nothing (KIP-914)
        self.use_versioned_semantics = use_versioned_semantics
        self.fk_serde_given = fk_serde
        self.value_serde_given = value_serde

    def init(self, context: ProcessorContext) -> None:
        """Resolve the serdes used for foreign-key comparison and hashing."""
        self.context = context
        self.fk_serde = _serde(context, self.fk_serde_given, "key_serde")
        self.value_serde = _serde(context, self.value_serde_given, "value_serde")

    def _same_fk(self, a: Any, b: Any) -> bool:
        return self.fk_serde.serialize(a) == self.fk_serde.serialize(b)

    def process(self, record: Record) -> None:
        """Send unsubscribe / subscribe instructions for the row's old and new foreign keys."""
        key, change = record.key, record.value
        if self.use_versioned_semantics and not change.is_latest:
            return
        new, old = change.new, change.old
        digest = value_hash(self.value_serde, new)
        fk = self.extractor
        sends: list[tuple[Any, int]] = []
        old_fk = None if old is None else fk(key, old)
        if self.left_join:
            if old is None and new is None:
                return None
            new_fk = None if new is None else fk(key, new)
            if old_fk is not None and not self._same_fk(new_fk, old_fk):
                sends.append((old_fk, DELETE_KEY_NO_PROPAGATE))
            sends.append((new_fk, PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE))
        elif new is not None:
            new_fk = fk(key, new)
            if new_fk is None:
                self._skip()
                if old_fk is not None:  # the row left the join: retract its result
                    sends.append((old_fk, DELETE_KEY_AND_PROPAGATE))
            elif old_fk is not None and not self._same_fk(new_fk, old_fk):
                sends.append((old_fk, DELETE_KEY_NO_PROPAGATE))
                sends.append((new_fk, PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE))
            else:
                sends.append((new_fk, PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE))
        elif old_fk is not None:
            sends.append((old_fk, DELETE_KEY_AND_PROPAGATE))
        partition = self.context.partition
        for foreign_key, instruction in sends:
            wrapper = SubscriptionWrapper(digest, instruction, key, partition)
            self.context.forward(Record(foreign_key, wrapper, record.timestamp, record.headers))
        return None

    def _skip(self) -> None:
        log.warning("Skipping record due to null foreign key. topic=[%s] offset=[%s]",
                    self.context.topic, self.context.offset)


class _SubscriptionStoreUser(Processor):
    """A processor of the subscription store, keyed by ``combined_key(fk, pk)`` bytes."""

    def __init__(self, store_name: str, fk_serde: Serde | None, pk_serde: Serde | None) -> None:
        self.store_name = store_name
        self.fk_serde_given = fk_serde
        self.pk_serde_given = pk_serde

    def init(self, context: ProcessorContext) -> None:
        """Find the subscription store and the key serdes."""
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.fk_serde = _serde(context, self.fk_serde_given, "key_serde")
        self.pk_serde = _serde(context, self.pk_serde_given, "key_serde")


class SubscriptionReceive(_SubscriptionStoreUser):
    """Stores (or removes) the subscription under ``(foreign key, primary key)``."""

    def process(self, record: Record) -> None:
        """Update the store; forward ``(fk, pk) -> Change(new, old subscription)``."""
        fk, wrapper = record.key, record.value
        if fk is None and wrapper.instruction != PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE:
            log.warning("Skipping record due to null foreign key. topic=[%s] offset=[%s]",
                        self.context.topic, self.context.offset)
            return
        new = ValueAndTimestamp(wrapper, record.timestamp)
        old = None
        if fk is not None:
            key = combined_key(self.fk_serde.serialize(fk) or b"",
                               self.pk_serde.serialize(wrapper.primary_key) or b"")
            old = self.store.get(key)
            if wrapper.instruction in (DELETE_KEY_AND_PROPAGATE, DELETE_KEY_NO_PROPAGATE):
                self.store.delete(key)
            else:
                self.store.put(key, new)
        self.context.forward(Record((fk, wrapper.primary_key), Change(new, old),
                                    record.timestamp, record.headers))


class SubscriptionJoinForeign(Processor):
    """Answers a subscription with the right table's current row for its foreign key."""

    def __init__(self, getter: ValueGetter) -> None:
        self.getter = getter

    def init(self, context: ProcessorContext) -> None:
        """Init the right table's getter."""
        self.context = context
        self.getter.init(context)

    def process(self, record: Record) -> None:
        """Forward a response keyed by the primary key (or nothing, per the instruction)."""
        fk, pk = record.key
        sub_vt: ValueAndTimestamp = record.value.new
        wrapper: SubscriptionWrapper = sub_vt.value
        foreign = None if fk is None else self.getter.get(fk)
        ts = sub_vt.timestamp if foreign is None else max(sub_vt.timestamp, foreign.timestamp)
        instruction = wrapper.instruction
        if instruction == DELETE_KEY_AND_PROPAGATE:
            value = None
        elif instruction == PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE:
            value = None if foreign is None else foreign.value
        elif instruction == PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE and foreign is not None:
            value = foreign.value
        else:
            return
        self.context.forward(Record(pk, ResponseWrapper(wrapper.hash, value, wrapper.partition),
                                    ts, record.headers))


class ForeignTableJoin(_SubscriptionStoreUser):
    """A right table update answers every subscriber of its key, in primary-key byte order
    (a versioned right table's out-of-order updates answer nobody, as in KIP-914)."""

    use_versioned_semantics = False

    def process(self, record: Record) -> None:
        """Scan the subscriptions of this foreign key and forward a response for each."""
        if record.key is None:
            log.warning("Skipping record due to null key. topic=[%s] offset=[%s]",
                        self.context.topic, self.context.offset)
            return
        if self.use_versioned_semantics and not record.value.is_latest:
            return
        prefix = combined_key(self.fk_serde.serialize(record.key) or b"")
        new = record.value.new
        for key, vt in self.store.range(prefix, None):
            if not key.startswith(prefix):
                break
            wrapper: SubscriptionWrapper = vt.value
            self.context.forward(Record(self.pk_serde.deserialize(key[len(prefix):]),
                                        ResponseWrapper(wrapper.hash, new, wrapper.partition),
                                        record.timestamp, record.headers))


class ResponseJoin(Processor):
    """Joins a response with the current left row, if the row is still the one subscribed."""

    def __init__(self, getter: ValueGetter, value_serde: Serde | None,
                 joiner: Callable[[Any, Any], Any], left_join: bool) -> None:
        self.getter = getter
        self.value_serde_given = value_serde
        self.joiner = joiner
        self.left_join = left_join

    def init(self, context: ProcessorContext) -> None:
        """Init the left table's getter and the hashing serde."""
        self.context = context
        self.getter.init(context)
        self.value_serde = _serde(context, self.value_serde_given, "value_serde")

    def process(self, record: Record) -> None:
        """Forward the join result (``None`` = delete), or drop a stale response."""
        response: ResponseWrapper = record.value
        current = self.getter.get(record.key)
        current_value = None if current is None else current.value
        if value_hash(self.value_serde, current_value) != response.hash:
            return  # the left row changed since this subscription was sent
        if response.foreign_value is None and (not self.left_join or current is None):
            result = None
        else:
            result = self.joiner(current_value, response.foreign_value)
        self.context.forward(record.with_value(result))
