"""The seed jobs' results computed plainly from the CSV files (csv module, no streams_app)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from streams_app.jobs.rides import RIDES_CSV, ZONES_CSV

WINDOW_MS = 10 * 60 * 1000


def rows() -> list[dict[str, str]]:
    """rides.csv as the csv module reads it (strings), in file order."""
    with open(RIDES_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


def ride_id(ride: dict[str, Any]) -> tuple:
    """What identifies a ride, the same for a CSV row (strings) and a decoded JSON ride."""
    return (str(ride["VendorID"]), ride["tpep_pickup_datetime"], ride["tpep_dropoff_datetime"],
            str(ride["PULocationID"]), str(ride["DOLocationID"]), float(ride["total_amount"]))


def pickup_ms(row: dict[str, str]) -> int:
    moment = datetime.strptime(row["tpep_pickup_datetime"], "%Y-%m-%d %H:%M:%S")
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def windowed_counts(grace_ms: int | None = None) -> Counter[tuple[str, int]]:
    """Rides per (PULocationID, 10-minute window start of the pick-up time).

    With ``grace_ms``, a ride whose window ended ``grace_ms`` or more before the largest
    pick-up time read so far (file order) is not counted: Kafka Streams' window close rule.
    """
    counts: Counter[tuple[str, int]] = Counter()
    stream_time = -1
    for row in rows():
        ts = pickup_ms(row)
        stream_time = max(stream_time, ts)
        start = ts - ts % WINDOW_MS
        if grace_ms is None or start + WINDOW_MS + grace_ms > stream_time:
            counts[(row["PULocationID"], start)] += 1
    return counts


def zones() -> dict[str, dict[str, str]]:
    """taxi_zone_lookup.csv by location id."""
    with open(ZONES_CSV, newline="") as fh:
        return {row["locationid"]: row for row in csv.DictReader(fh)}


def borough_counts() -> Counter[str]:
    """Rides per borough of their pick-up zone (rides without a zone are not counted)."""
    lookup = zones()
    return Counter(lookup[r["PULocationID"]]["borough"] for r in rows()
                   if r["PULocationID"] in lookup)


def price_branches() -> tuple[Counter[tuple], Counter[tuple]]:
    """(rides of $40 or more, the others), as multisets of (vendor key, ride id)."""
    high: Counter[tuple] = Counter()
    low: Counter[tuple] = Counter()
    for r in rows():
        (high if float(r["total_amount"]) >= 40 else low)[(r["VendorID"], ride_id(r))] += 1
    return high, low
