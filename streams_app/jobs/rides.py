"""The seed's taxi-rides data: loading ``rides.csv`` into typed ride dicts."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from streams_app.kafka.topics import TopicSpec

RIDES_CSV = Path(__file__).parent / "data" / "rides.csv"
ZONES_CSV = Path(__file__).parent / "data" / "taxi_zone_lookup.csv"

_INT_FIELDS = frozenset(
    {"VendorID", "passenger_count", "RatecodeID", "PULocationID", "DOLocationID", "payment_type"}
)
_FLOAT_FIELDS = frozenset(
    {
        "trip_distance",
        "fare_amount",
        "extra",
        "mta_tax",
        "tip_amount",
        "tolls_amount",
        "improvement_surcharge",
        "total_amount",
        "congestion_surcharge",
    }
)


def _convert(field: str, raw: str) -> int | float | str | None:
    if raw == "":
        return None
    if field in _INT_FIELDS:
        return int(float(raw))
    if field in _FLOAT_FIELDS:
        return float(raw)
    return raw


def read_rides(path: Path | str = RIDES_CSV) -> Iterator[dict]:
    """Yield each ride of a TLC yellow-taxi CSV as a dict with numeric fields typed."""
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            yield {field: _convert(field, raw) for field, raw in row.items()}


def read_zones(path: Path | str = ZONES_CSV) -> Iterator[dict]:
    """Yield each taxi zone: locationid (int), borough, zone, service_zone."""
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            yield {**row, "locationid": int(row["locationid"])}


def vendor_count_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """The job's topics: rides in, counts (compacted), the two branches, dead letters."""
    def spec(name: str, policy: str = "delete", parts: int = partitions) -> TopicSpec:
        return TopicSpec(f"{prefix}{name}", parts, replicas, cleanup_policy=policy)

    return [spec("rides"), spec("rides-vendor-count", "compact"), spec("rides-high-amount"),
            spec("rides-low-amount"), spec("rides-dead-letter", parts=1)]


def check_ride(ride: Any) -> dict:
    """Return ``ride`` if it is a ride (an object with VendorID and a numeric total_amount),
    else raise ValueError saying what is wrong."""
    if ride is None:
        raise ValueError("empty value (tombstone) is not a ride")
    if not isinstance(ride, dict):
        raise ValueError(f"not a JSON object: {type(ride).__name__}")
    amount = ride.get("total_amount")
    if ride.get("VendorID") is None:
        raise ValueError("missing VendorID")
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise ValueError(f"total_amount is not a number: {amount!r}")
    return ride


def parse_ride(value: bytes | None) -> tuple[str, float]:
    """Return (vendor, total_amount) of a JSON ride, or raise ValueError saying what is wrong."""
    if value is None:
        raise ValueError("empty value (tombstone) is not a ride")
    try:
        ride = check_ride(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return str(ride["VendorID"]), float(ride["total_amount"])
