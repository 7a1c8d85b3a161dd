"""Serdes: byte formats compatible with Kafka's, None as null, user-defined and Faust models."""

from __future__ import annotations

import faust
import pytest

from streams_app.processors import Change
from streams_app.serdes import (
    BytesSerde,
    ChangeSerde,
    FaustRecordSerde,
    IntegerSerde,
    JsonSerde,
    LongSerde,
    SerdeError,
    Serdes,
    StringSerde,
    resolve_serde,
)


class Ride(faust.Record, serializer="json"):
    vendor: int
    amount: float


def test_number_serdes_match_kafka_byte_layout() -> None:
    assert LongSerde().serialize(1) == b"\x00" * 7 + b"\x01"
    assert LongSerde().serialize(-1) == b"\xff" * 8
    assert IntegerSerde().serialize(258) == b"\x00\x00\x01\x02"
    assert LongSerde().deserialize(LongSerde().serialize(2**40)) == 2**40
    with pytest.raises(SerdeError, match="expects 8 bytes"):
        LongSerde().deserialize(b"\x00\x01")
    with pytest.raises(SerdeError):
        IntegerSerde().serialize(2**40)


@pytest.mark.parametrize(
    "serde, value",
    [(JsonSerde(), {"a": [1, 2.5, None]}), (StringSerde(), "héllo"), (BytesSerde(), b"\x00\x01")],
)
def test_round_trips_and_null(serde, value) -> None:  # type: ignore[no-untyped-def]
    assert serde.deserialize(serde.serialize(value)) == value
    assert serde.serialize(None) is None
    assert serde.deserialize(None) is None


def test_string_serde_rejects_non_strings_and_json_rejects_garbage() -> None:
    with pytest.raises(SerdeError, match="expects str"):
        StringSerde().serialize(1)
    with pytest.raises(SerdeError, match="cannot decode"):
        JsonSerde().deserialize(b"{nope")


def test_user_defined_and_faust_record_serdes() -> None:
    upper = Serdes.of(lambda s: s.upper().encode(), lambda b: b.decode().lower())
    assert upper.serialize("ab") == b"AB" and upper.deserialize(b"AB") == "ab"
    rides = FaustRecordSerde(Ride)
    data = rides.serialize(Ride(vendor=2, amount=9.5))
    assert b'"vendor":2' in data.replace(b" ", b"")
    assert rides.deserialize(data) == Ride(vendor=2, amount=9.5)


def test_change_serde_keeps_both_sides() -> None:
    serde = ChangeSerde(JsonSerde())
    for change in (Change(1, 2), Change("x", None), Change(None, [1]), Change(None, None)):
        assert serde.deserialize(serde.serialize(change)) == change


def test_resolve_serde_names_the_setting() -> None:
    assert isinstance(resolve_serde("long", "x"), LongSerde)
    with pytest.raises(ValueError, match="default_key_serde"):
        resolve_serde("nope", "default_key_serde")
