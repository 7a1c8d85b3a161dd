"""Keys from URL text, with the store's key serde; store contents to JSON.

A key in a URL is text. It becomes the store's key the way its key serde would read it:
numbers for Long/Integer/Double serdes, a JSON document for the JSON serde, the text itself
for the string serde (and its UTF-8 bytes for the bytes serde). Nothing is evaluated.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import orjson

from streams_app.serdes import (
    BytesSerde,
    DoubleSerde,
    IntegerSerde,
    JsonSerde,
    LongSerde,
    Serde,
    SerdeError,
    StringSerde,
)

__all__ = ["MAX_KEY_CHARS", "BadKeyError", "key_order", "key_text", "parse_key", "to_json"]

#: Longest key accepted in a URL (Kafka keys are usually far shorter).
MAX_KEY_CHARS = 1024


class BadKeyError(ValueError):
    """The text is not a key of the store's key serde."""


def parse_key(text: str, serde: Serde | None) -> Any:
    """The key ``text`` names for a store whose keys use ``serde``."""
    if len(text) > MAX_KEY_CHARS:
        raise BadKeyError(f"key longer than {MAX_KEY_CHARS} characters")
    if serde is None or isinstance(serde, StringSerde):
        return text
    if isinstance(serde, LongSerde | IntegerSerde):
        try:
            return int(text.strip())
        except ValueError:
            raise BadKeyError(f"{text!r} is not an integer ({type(serde).__name__} keys)") from None
    if isinstance(serde, DoubleSerde):
        try:
            number = float(text.strip())
        except ValueError:
            raise BadKeyError(f"{text!r} is not a number ({type(serde).__name__} keys)") from None
        if not math.isfinite(number):
            raise BadKeyError(f"{text!r} is not a finite number")
        return number
    if isinstance(serde, BytesSerde):
        return text.encode()
    if isinstance(serde, JsonSerde):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise BadKeyError(f"{text!r} is not JSON (the store's keys are JSON)") from None
    try:  # any other serde reads the text's bytes, as it would read a record key
        return serde.deserialize(text.encode())
    except (SerdeError, ValueError, TypeError) as exc:
        raise BadKeyError(f"{text!r} is not a key of {serde!r}: {exc}") from None


def key_text(key: Any, serde: Serde | None) -> str:
    """The URL text of ``key`` (what :func:`parse_key` reads back): a paging cursor."""
    if isinstance(serde, JsonSerde):
        return to_json(key).decode()
    if isinstance(key, bytes | bytearray):
        return bytes(key).decode(errors="replace")
    return str(key)


def key_order(key: Any) -> tuple[int, Any]:
    """A sort key across workers: numbers by value, strings by text, anything else by its
    JSON (mixed kinds never compare directly)."""
    if isinstance(key, bool):
        return (2, orjson.dumps(key))
    if isinstance(key, int | float):
        return (0, key)
    if isinstance(key, str):
        return (1, key)
    return (2, to_json(key))


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode()}
    asdict = getattr(value, "asdict", None)  # Faust records
    if callable(asdict):
        return asdict()
    if isinstance(value, set | frozenset):
        return sorted(value, key=key_order)
    return repr(value)


def to_json(value: Any) -> bytes:
    """``value`` as JSON (bytes as text or base64; tuples as lists)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
