"""Serdes: how keys and values cross a topic boundary as bytes.

A serde turns a Python object into bytes and back. ``None`` always maps to ``None``
(a Kafka null / tombstone), never to encoded bytes, as in Kafka's own serdes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import orjson

__all__ = [
    "Serde",
    "JsonSerde",
    "StringSerde",
    "BytesSerde",
    "LongSerde",
    "IntegerSerde",
    "DoubleSerde",
    "FunctionSerde",
    "FaustRecordSerde",
    "Serdes",
    "SerdeError",
    "ChangeSerde",
    "resolve_serde",
    "TimeWindowedSerde",
    "SessionWindowedSerde",
]


class SerdeError(ValueError):
    """Raised when bytes cannot be decoded or a value cannot be encoded."""


class Serde:
    """Base serde; subclasses implement :meth:`serialize` and :meth:`deserialize`."""

    name = "serde"

    def serialize(self, data: Any) -> bytes | None:
        """Encode ``data`` (``None`` stays ``None``)."""
        raise NotImplementedError

    def deserialize(self, data: bytes | None) -> Any:
        """Decode ``data`` (``None`` stays ``None``)."""
        raise NotImplementedError

    def presence(self, data: bytes | None) -> Any:
        """What a processor that never reads the value gets (``Processor.reads_value``):
        None exactly when :meth:`deserialize` gives None, else any other object. Serdes
        that can tell without decoding return ``data`` itself; this default decodes."""
        return self.deserialize(data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class JsonSerde(Serde):
    """JSON via orjson; the default value and key serde."""

    name = "json"

    def serialize(self, data: Any) -> bytes | None:
        """Encode ``data`` as UTF-8 JSON."""
        if data is None:
            return None
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except TypeError as exc:
            raise SerdeError(f"JsonSerde cannot encode {type(data).__name__}: {exc}") from exc

    def deserialize(self, data: bytes | None) -> Any:
        """Decode JSON bytes."""
        if data is None:
            return None
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise SerdeError(f"JsonSerde cannot decode {bytes(data)[:40]!r}: {exc}") from exc

    def presence(self, data: bytes | None) -> Any:
        """``data``, or None for no bytes and JSON ``null`` (the only text decoding to None).
        Bytes that are not JSON at all are not noticed: nothing reads them."""
        if data is None or (len(data) < 64 and bytes(data).strip(b" \t\r\n") == b"null"):
            return None
        return data


class StringSerde(Serde):
    """UTF-8 strings, like Kafka's StringSerde."""

    name = "string"

    def serialize(self, data: Any) -> bytes | None:
        """Encode a str as UTF-8."""
        if data is None:
            return None
        if not isinstance(data, str):
            raise SerdeError(f"StringSerde expects str, got {type(data).__name__}")
        return data.encode()

    def size_of(self, data: Any) -> int:
        """Serialized bytes without encoding ASCII (the record cache's sizes)."""
        if type(data) is str and data.isascii():
            return len(data)
        raw = self.serialize(data)
        return 0 if raw is None else len(raw)

    def deserialize(self, data: bytes | None) -> str | None:
        """Decode UTF-8 bytes."""
        if type(data) is bytes:  # the common case, without a copy
            return data.decode()
        return None if data is None else bytes(data).decode()

    def presence(self, data: bytes | None) -> Any:
        """``data``: only no bytes decode to None."""
        return data


class BytesSerde(Serde):
    """Raw bytes passed through unchanged."""

    name = "bytes"

    def serialize(self, data: Any) -> bytes | None:
        """Return ``data`` as bytes."""
        if data is None:
            return None
        if not isinstance(data, bytes | bytearray | memoryview):
            raise SerdeError(f"BytesSerde expects bytes, got {type(data).__name__}")
        return bytes(data)

    def deserialize(self, data: bytes | None) -> bytes | None:
        """Return the bytes unchanged."""
        return None if data is None else bytes(data)

    def presence(self, data: bytes | None) -> Any:
        """``data``: only no bytes are None."""
        return data


class _StructSerde(Serde):
    """Fixed-width big-endian numbers, byte-compatible with Kafka's number serdes."""

    _struct: struct.Struct
    _kinds: tuple[type, ...] = (int,)

    @property
    def fixed_size(self) -> int:
        """Bytes of every serialized value (the record cache sizes without serializing)."""
        return self._struct.size

    def serialize(self, data: Any) -> bytes | None:
        """Pack the number big-endian."""
        if data is None:
            return None
        if isinstance(data, bool) or not isinstance(data, self._kinds):
            raise SerdeError(f"{type(self).__name__} expects a number, got {type(data).__name__}")
        try:
            return self._struct.pack(data)
        except struct.error as exc:
            raise SerdeError(f"{type(self).__name__} cannot encode {data!r}: {exc}") from exc

    def deserialize(self, data: bytes | None) -> Any:
        """Unpack a big-endian number; the width must match exactly."""
        if data is None:
            return None
        if len(data) != self._struct.size:
            raise SerdeError(
                f"{type(self).__name__} expects {self._struct.size} bytes, got {len(data)}"
            )
        return self._struct.unpack(data)[0]


class LongSerde(_StructSerde):
    """8-byte signed big-endian integer (Kafka's LongSerde)."""

    name = "long"
    _struct = struct.Struct(">q")


class IntegerSerde(_StructSerde):
    """4-byte signed big-endian integer (Kafka's IntegerSerde)."""

    name = "integer"
    _struct = struct.Struct(">i")


class DoubleSerde(_StructSerde):
    """8-byte IEEE-754 big-endian double (Kafka's DoubleSerde)."""

    name = "double"
    _struct = struct.Struct(">d")
    _kinds = (int, float)


class FunctionSerde(Serde):
    """A user-defined serde from a serializer and a deserializer function."""

    name = "function"

    def __init__(
        self,
        serializer: Callable[[Any], bytes],
        deserializer: Callable[[bytes], Any],
    ) -> None:
        self._ser = serializer
        self._de = deserializer

    def serialize(self, data: Any) -> bytes | None:
        """Call the user serializer (``None`` is passed through, never given to it)."""
        return None if data is None else self._ser(data)

    def deserialize(self, data: bytes | None) -> Any:
        """Call the user deserializer (``None`` is passed through)."""
        return None if data is None else self._de(data)


class FaustRecordSerde(Serde):
    """A ``faust.Record`` model as JSON (the model's own ``dumps``/``loads``)."""

    name = "faust-record"

    def __init__(self, model: type) -> None:
        if not hasattr(model, "loads") or not hasattr(model, "dumps"):
            raise TypeError(f"FaustRecordSerde needs a faust.Record subclass, got {model!r}")
        self.model = model

    def serialize(self, data: Any) -> bytes | None:
        """Encode a model instance with its serializer (JSON by default)."""
        if data is None:
            return None
        if not isinstance(data, self.model):
            raise SerdeError(f"FaustRecordSerde expects {self.model.__name__}")
        return data.dumps()

    def deserialize(self, data: bytes | None) -> Any:
        """Decode bytes into a model instance."""
        if data is None:
            return None
        return self.model.loads(bytes(data), serializer="json")

    def __repr__(self) -> str:
        return f"FaustRecordSerde({self.model.__name__})"


class Serdes:
    """Factory names mirroring Kafka's ``Serdes`` class."""

    @staticmethod
    def json() -> JsonSerde:
        """JSON serde."""
        return JsonSerde()

    @staticmethod
    def string() -> StringSerde:
        """UTF-8 string serde."""
        return StringSerde()

    @staticmethod
    def bytes() -> BytesSerde:
        """Raw bytes serde."""
        return BytesSerde()

    @staticmethod
    def long() -> LongSerde:
        """8-byte long serde."""
        return LongSerde()

    @staticmethod
    def integer() -> IntegerSerde:
        """4-byte integer serde."""
        return IntegerSerde()

    @staticmethod
    def double() -> DoubleSerde:
        """8-byte double serde."""
        return DoubleSerde()

    @staticmethod
    def of(serializer: Callable[[Any], bytes], deserializer: Callable[[bytes], Any]) -> Serde:
        """A user-defined serde."""
        return FunctionSerde(serializer, deserializer)

    @staticmethod
    def record(model: type) -> FaustRecordSerde:
        """A Faust ``Record`` model serde."""
        return FaustRecordSerde(model)


_BY_NAME: dict[str, Callable[[], Serde]] = {
    "json": JsonSerde,
    "string": StringSerde,
    "str": StringSerde,
    "bytes": BytesSerde,
    "raw": BytesSerde,
    "long": LongSerde,
    "integer": IntegerSerde,
    "int": IntegerSerde,
    "double": DoubleSerde,
}


def resolve_serde(value: Any, setting: str) -> Serde | None:
    """Accept a serde, its name, or a Faust ``Record`` class; fail naming ``setting``."""
    if value is None or isinstance(value, Serde):
        return value
    if isinstance(value, str) and value.lower() in _BY_NAME:
        return _BY_NAME[value.lower()]()
    if isinstance(value, type) and hasattr(value, "loads") and hasattr(value, "dumps"):
        return FaustRecordSerde(value)
    raise ValueError(
        f"{setting}: expected a Serde or one of {sorted(_BY_NAME)}, got {value!r}"
    )


class ChangeSerde(Serde):
    """A table update ``Change(new, old)`` on a repartition topic (internal format).

    One flag byte (bit 0: new present, bit 1: old present); when both are present the new
    value's length follows as 4 bytes big-endian, then new bytes, then old bytes.
    """

    name = "change"
    _len = struct.Struct(">I")

    def __init__(self, inner: Serde | None) -> None:
        # None: the application's default value serde, filled in by the runtime
        self.inner = inner

    def serialize(self, data: Any) -> bytes | None:
        """Encode a ``Change``."""
        if data is None:
            return None
        new = self.inner.serialize(data.new)
        old = self.inner.serialize(data.old)
        if new is not None and old is not None:
            return b"\x03" + self._len.pack(len(new)) + new + old
        if new is not None:
            return b"\x01" + new
        if old is not None:
            return b"\x02" + old
        return b"\x00"

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a ``Change``."""
        from streams_app.processors.api import Change  # serdes must not import processors early

        if data is None:
            return None
        flag, de = data[0], self.inner.deserialize
        if flag == 3:
            (n,) = self._len.unpack_from(data, 1)
            return Change(de(bytes(data[5 : 5 + n])), de(bytes(data[5 + n :])))
        if flag == 1:
            return Change(de(bytes(data[1:])), None)
        if flag == 2:
            return Change(None, de(bytes(data[1:])))
        return Change(None, None)

    def __repr__(self) -> str:
        return f"ChangeSerde({self.inner!r})"


class TimeWindowedSerde(Serde):
    """``Windowed`` keys of time windows as ``key bytes + 8-byte start`` (Kafka's
    TimeWindowedSerde); the end is ``start + window_size`` when reading back."""

    name = "time-windowed"

    def __init__(self, inner: Serde, window_size: int) -> None:
        self.inner = inner
        self.window_size = window_size

    def serialize(self, data: Any) -> bytes | None:
        """Encode ``Windowed(key, start, end)``."""
        if data is None:
            return None
        from streams_app.state.window_keys import time_windowed_key

        return time_windowed_key(self.inner.serialize(data.key) or b"", data.start)

    def deserialize(self, data: bytes | None) -> Any:
        """Decode into ``Windowed(key, start, start + window_size)``."""
        if data is None:
            return None
        from streams_app.state.api import Windowed
        from streams_app.state.window_keys import split_time_windowed_key

        key, start = split_time_windowed_key(bytes(data))
        return Windowed(self.inner.deserialize(key), start, start + self.window_size)

    def __repr__(self) -> str:
        return f"TimeWindowedSerde({self.inner!r}, {self.window_size})"


class SessionWindowedSerde(Serde):
    """``Windowed`` session keys as ``key bytes + 8-byte end + 8-byte start`` (Kafka's
    SessionWindowedSerde)."""

    name = "session-windowed"

    def __init__(self, inner: Serde) -> None:
        self.inner = inner

    def serialize(self, data: Any) -> bytes | None:
        """Encode ``Windowed(key, start, end)``."""
        if data is None:
            return None
        from streams_app.state.window_keys import session_store_key

        return session_store_key(self.inner.serialize(data.key) or b"", data.start, data.end)

    def deserialize(self, data: bytes | None) -> Any:
        """Decode into ``Windowed(key, start, end)``."""
        if data is None:
            return None
        from streams_app.state.api import Windowed
        from streams_app.state.window_keys import split_session_store_key

        key, start, end = split_session_store_key(bytes(data))
        return Windowed(self.inner.deserialize(key), start, end)

    def __repr__(self) -> str:
        return f"SessionWindowedSerde({self.inner!r})"
