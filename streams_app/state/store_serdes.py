"""Byte layouts of the internal stores that hold more than one plain value per key.

These stores are changelogged like any other, so their keys and values must cross Kafka as
bytes and come back equal on restore:

* stream-stream join window stores keep every value of a key at one timestamp (Kafka
  retains duplicates): :class:`JoinValuesSerde`, a list of length-prefixed values;
* the outer join's shared store keys non-joined records by ``(timestamp, side, key)``:
  :class:`JoinSideKeySerde` writes ``8-byte timestamp + side byte + key bytes`` (Kafka's
  TimestampedKeyAndJoinSide; byte order = time order), and :class:`LeftOrRightValuesSerde`
  the held ``(left, right)`` pairs, one side set;
* the suppression buffer: :class:`BufferKeySerde` (plain or windowed keys) and
  :class:`BufferValueSerde` (buffer time, record timestamp, headers, prior/old/new value).

Each wraps the store's own serdes; an inner serde of ``None`` is the application default,
filled in by :meth:`bind_defaults` when a runtime builds the store.
"""

from __future__ import annotations

import struct
from typing import Any

from streams_app.serdes import Serde, SerdeError, resolve_serde
from streams_app.state.api import Windowed

__all__ = [
    "JoinValuesSerde",
    "JoinSideKeySerde",
    "LeftOrRightValuesSerde",
    "BufferKeySerde",
    "BufferValueSerde",
    "BufferEntry",
]

_I = struct.Struct(">i")
_Q = struct.Struct(">q")
_QQ = struct.Struct(">qq")

# (buffer time, record timestamp, headers, prior value, old value, new value)
BufferEntry = tuple[int, int, tuple[tuple[str, Any], ...], Any, Any, Any]


def _bind(serde: Any, default: Serde) -> Serde:
    return default if serde is None else resolve_serde(serde, "serde")  # type: ignore[return-value]


def _pack(data: bytes | None) -> bytes:
    """Length-prefixed bytes; length -1 is null."""
    return _I.pack(-1) if data is None else _I.pack(len(data)) + data


def _unpack(data: bytes, pos: int) -> tuple[bytes | None, int]:
    (n,) = _I.unpack_from(data, pos)
    pos += 4
    if n < 0:
        return None, pos
    if pos + n > len(data):
        raise SerdeError(f"truncated internal store record: needs {n} bytes at {pos}")
    return data[pos:pos + n], pos + n


class _Wrapper(Serde):
    """A serde around one inner serde (``None`` until bound = the application default)."""

    uses_key_default = False

    def __init__(self, inner: Serde | None) -> None:
        self.inner = inner

    def bind_defaults(self, key_serde: Serde, value_serde: Serde) -> Serde:
        """A copy whose missing inner serde is the runtime's default key or value serde."""
        return type(self)(_bind(self.inner, key_serde if self.uses_key_default else value_serde))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class JoinValuesSerde(_Wrapper):
    """A list of values as length-prefixed inner encodings."""

    name = "join-values"

    def serialize(self, data: Any) -> bytes | None:
        """Encode a list of values (``None`` stays a tombstone)."""
        if data is None:
            return None
        ser = self.inner.serialize  # type: ignore[union-attr]
        return b"".join(_pack(ser(v)) for v in data)

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a list of values."""
        if data is None:
            return None
        data, de = bytes(data), self.inner.deserialize  # type: ignore[union-attr]
        out, pos = [], 0
        while pos < len(data):
            raw, pos = _unpack(data, pos)
            out.append(de(raw))
        return out


class JoinSideKeySerde(_Wrapper):
    """``(timestamp, side, key)`` as ``8-byte timestamp + side byte + key bytes``."""

    name = "join-side-key"
    uses_key_default = True

    def serialize(self, data: Any) -> bytes | None:
        """Encode a ``(timestamp, 1 = left / 0 = right, key)`` tuple."""
        if data is None:
            return None
        ts, side, key = data
        return _Q.pack(ts) + bytes((side,)) + (self.inner.serialize(key) or b"")  # type: ignore[union-attr]

    def deserialize(self, data: bytes | None) -> Any:
        """Decode into the ``(timestamp, side, key)`` tuple."""
        if data is None:
            return None
        data = bytes(data)
        return (_Q.unpack_from(data)[0], data[8], self.inner.deserialize(data[9:]))  # type: ignore[union-attr]


class LeftOrRightValuesSerde(Serde):
    """A list of ``(left, right)`` pairs, one side set: per pair a side byte (1 = left)
    and the length-prefixed value in that side's serde."""

    name = "left-or-right-values"

    def __init__(self, left: Serde | None, right: Serde | None) -> None:
        self.left = left
        self.right = right

    def bind_defaults(self, key_serde: Serde, value_serde: Serde) -> LeftOrRightValuesSerde:
        """A copy with missing side serdes set to the default value serde."""
        return LeftOrRightValuesSerde(_bind(self.left, value_serde),
                                      _bind(self.right, value_serde))

    def serialize(self, data: Any) -> bytes | None:
        """Encode the held pairs."""
        if data is None:
            return None
        out = []
        for left, right in data:
            if left is not None:
                out.append(b"\x01" + _pack(self.left.serialize(left)))  # type: ignore[union-attr]
            else:
                out.append(b"\x00" + _pack(self.right.serialize(right)))  # type: ignore[union-attr]
        return b"".join(out)

    def deserialize(self, data: bytes | None) -> Any:
        """Decode the held pairs."""
        if data is None:
            return None
        data = bytes(data)
        out: list[tuple[Any, Any]] = []
        pos = 0
        while pos < len(data):
            is_left = data[pos] == 1
            raw, pos = _unpack(data, pos + 1)
            if is_left:
                out.append((self.left.deserialize(raw), None))  # type: ignore[union-attr]
            else:
                out.append((None, self.right.deserialize(raw)))  # type: ignore[union-attr]
        return out

    def __repr__(self) -> str:
        return f"LeftOrRightValuesSerde({self.left!r}, {self.right!r})"


class BufferKeySerde(_Wrapper):
    """A suppression buffer key: ``0x00 + key bytes``, or for a windowed key
    ``0x01 + 8-byte start + 8-byte end + key bytes``."""

    name = "buffer-key"
    uses_key_default = True

    def serialize(self, data: Any) -> bytes | None:
        """Encode a plain or :class:`Windowed` key."""
        if data is None:
            return None
        ser = self.inner.serialize  # type: ignore[union-attr]
        if isinstance(data, Windowed):
            return b"\x01" + _QQ.pack(data.start, data.end) + (ser(data.key) or b"")
        return b"\x00" + (ser(data) or b"")

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a plain or :class:`Windowed` key."""
        if data is None:
            return None
        data, de = bytes(data), self.inner.deserialize  # type: ignore[union-attr]
        if data[:1] == b"\x01":
            start, end = _QQ.unpack_from(data, 1)
            return Windowed(de(data[17:]), start, end)
        return de(data[1:])


class BufferValueSerde(_Wrapper):
    """A buffered :data:`BufferEntry`: ``8-byte buffer time + 8-byte timestamp``, prior,
    old and new value (length-prefixed, -1 = null), then the headers (count, then
    length-prefixed name and value of each)."""

    name = "buffer-value"

    def serialize(self, data: Any) -> bytes | None:
        """Encode a :data:`BufferEntry`."""
        if data is None:
            return None
        buffer_time, ts, headers, prior, old, new = data
        ser = self.inner.serialize  # type: ignore[union-attr]
        parts = [_QQ.pack(buffer_time, ts), _pack(ser(prior)), _pack(ser(old)), _pack(ser(new)),
                 _I.pack(len(headers))]
        for name, value in headers:
            parts.append(_pack(name.encode() if isinstance(name, str) else bytes(name)))
            parts.append(_pack(None if value is None else bytes(value)))
        return b"".join(parts)

    def deserialize(self, data: bytes | None) -> Any:
        """Decode a :data:`BufferEntry` (headers as a tuple of ``(str, bytes)``)."""
        if data is None:
            return None
        data, de = bytes(data), self.inner.deserialize  # type: ignore[union-attr]
        buffer_time, ts = _QQ.unpack_from(data)
        prior, pos = _unpack(data, 16)
        old, pos = _unpack(data, pos)
        new, pos = _unpack(data, pos)
        (count,) = _I.unpack_from(data, pos)
        pos += 4
        headers = []
        for _ in range(count):
            name, pos = _unpack(data, pos)
            value, pos = _unpack(data, pos)
            headers.append(((name or b"").decode(), value))
        return (buffer_time, ts, tuple(headers), de(prior), de(old), de(new))
