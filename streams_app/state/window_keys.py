"""Byte layouts of windowed keys, as Kafka Streams writes them.

* window store / changelog key: ``key bytes + 8-byte start + 4-byte sequence number``
  (big-endian; the sequence number is 0 unless duplicates are retained);
* time-windowed serde (sink topics): ``key bytes + 8-byte start``;
* session store / changelog key and session-windowed serde:
  ``key bytes + 8-byte end + 8-byte start``.

Key-first layouts sort by key bytes, then time, which is what range scans by key need.
"""

from __future__ import annotations

import struct

__all__ = [
    "window_store_key",
    "split_window_store_key",
    "session_store_key",
    "split_session_store_key",
    "time_windowed_key",
    "split_time_windowed_key",
]

_Q = struct.Struct(">q")
_QI = struct.Struct(">qi")
_QQ = struct.Struct(">qq")


def window_store_key(key: bytes, start: int, seq: int = 0) -> bytes:
    """``key + start + seq`` (Kafka's WindowKeySchema.toStoreKeyBinary)."""
    return key + _QI.pack(start, seq)


def split_window_store_key(raw: bytes) -> tuple[bytes, int, int]:
    """``(key bytes, start, seq)`` of a window store / changelog key."""
    start, seq = _QI.unpack_from(raw, len(raw) - 12)
    return raw[:-12], start, seq


def session_store_key(key: bytes, start: int, end: int) -> bytes:
    """``key + end + start`` (Kafka's SessionKeySchema.toBinary)."""
    return key + _QQ.pack(end, start)


def split_session_store_key(raw: bytes) -> tuple[bytes, int, int]:
    """``(key bytes, start, end)`` of a session store / changelog key."""
    end, start = _QQ.unpack_from(raw, len(raw) - 16)
    return raw[:-16], start, end


def time_windowed_key(key: bytes, start: int) -> bytes:
    """``key + start`` (Kafka's TimeWindowedSerializer)."""
    return key + _Q.pack(start)


def split_time_windowed_key(raw: bytes) -> tuple[bytes, int]:
    """``(key bytes, start)`` of a time-windowed key."""
    return raw[:-8], _Q.unpack_from(raw, len(raw) - 8)[0]
