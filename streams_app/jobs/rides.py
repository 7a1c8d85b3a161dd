"""The seed's taxi-rides data and what the rides jobs share: loading ``rides.csv`` and the
zones into typed dicts, checking rides, the jobs' topic specs."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from streams_app.kafka.topics import TopicSpec

RIDES_CSV = Path(__file__).parent / "data" / "rides.csv"
ZONES_CSV = Path(__file__).parent / "data" / "taxi_zone_lookup.csv"
# The Faust examples' price branch: rides of $40 or more are "high amount".
HIGH_AMOUNT = 40.0
PICKUP_FORMAT = "%Y-%m-%d %H:%M:%S"
ZONES_TOPIC = "taxi-zones"
# The ride feeds rides-all merges (the Faust examples' yellow, green and FHV rides).
RIDE_SOURCES = ("rides", "rides-green", "rides-fhv")

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


def zone_records(path: Path | str = ZONES_CSV) -> Iterator[tuple[str, dict]]:
    """The zones as a table topic holds them: key = the location id as a string."""
    for zone in read_zones(path):
        yield str(zone["locationid"]), zone


def _specs(prefix: str, partitions: int, replicas: int, delete: tuple[str, ...] = (),
           compact: tuple[str, ...] = ()) -> list[TopicSpec]:
    return [*(TopicSpec(f"{prefix}{n}", partitions, replicas) for n in delete),
            *(TopicSpec(f"{prefix}{n}", partitions, replicas, cleanup_policy="compact")
              for n in compact)]


def windowed_count_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """rides-windowed-count: rides in, counts per (location, window) out (compacted)."""
    return _specs(prefix, partitions, replicas, ("rides",), ("rides-pulocation-window-count",))


def zones_topic_spec(name: str, replicas: int) -> TopicSpec:
    """The zones table's topic: compacted, one partition (a GlobalKTable reads it whole, so
    it is never co-partitioned; one spec for the job and the producer)."""
    return TopicSpec(name, 1, replicas, cleanup_policy="compact")


def zone_join_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """rides-zone-join: rides in, the zones table, counts per borough (compacted)."""
    return [*_specs(prefix, partitions, replicas, ("rides",), ("rides-borough-count",)),
            zones_topic_spec(f"{prefix}{ZONES_TOPIC}", replicas)]


def price_branch_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """rides-price-branch: rides in, one topic per price branch."""
    return _specs(prefix, partitions, replicas, ("rides", "rides-price-high", "rides-price-low"))


def rides_all_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """rides-all: the ride feeds in, their merge out."""
    return _specs(prefix, partitions, replicas, (*RIDE_SOURCES, "rides-all"))


def vendor_count_topics(prefix: str, partitions: int, replicas: int) -> list[TopicSpec]:
    """The job's topics: rides in, counts (compacted), the two branches, dead letters."""
    def spec(name: str, policy: str = "delete", parts: int = partitions) -> TopicSpec:
        return TopicSpec(f"{prefix}{name}", parts, replicas, cleanup_policy=policy)

    return [spec("rides"), spec("rides-vendor-count", "compact"), spec("rides-high-amount"),
            spec("rides-low-amount"), spec("rides-dead-letter", parts=1)]


def check_ride(ride: Any) -> dict:
    """Return ``ride`` if it is a ride (an object with VendorID and a numeric total_amount),
    else raise ValueError saying what is wrong."""
    amount = _ride_object(ride).get("total_amount")
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


def _ride_object(ride: Any) -> dict:
    if ride is None:
        raise ValueError("empty value (tombstone) is not a ride")
    if not isinstance(ride, dict):
        raise ValueError(f"not a JSON object: {type(ride).__name__}")
    return ride


def pickup_location(ride: Any) -> str:
    """The ride's PULocationID as a string (the key of the zones), or ValueError."""
    location = _ride_object(ride).get("PULocationID")
    if not isinstance(location, int | str) or isinstance(location, bool) or location == "":
        raise ValueError(f"PULocationID is not a location id: {location!r}")
    return str(location)


def pickup_time_ms(ride: Any) -> int:
    """``tpep_pickup_datetime`` in epoch milliseconds, read as UTC (the TLC data is local
    time without a zone), or ValueError saying what is wrong."""
    text = _ride_object(ride).get("tpep_pickup_datetime")
    try:
        moment = datetime.strptime(text, PICKUP_FORMAT)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"tpep_pickup_datetime is not a 'YYYY-MM-DD HH:MM:SS' time: "
                         f"{text!r}") from None
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def branch_by_amount(rides: Any, split_name: str, high_topic: str, low_topic: str) -> None:
    """Rides of ``HIGH_AMOUNT`` or more to ``high_topic``, the rest to ``low_topic`` (branches
    ``<split_name>high`` / ``<split_name>low``)."""
    branches = (rides.split(split_name)
                .branch(lambda _vendor, ride: ride["total_amount"] >= HIGH_AMOUNT, "high")
                .default_branch("low"))
    branches[f"{split_name}high"].to(high_topic)
    branches[f"{split_name}low"].to(low_topic)
