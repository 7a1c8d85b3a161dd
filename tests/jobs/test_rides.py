"""Ride parsing and topic specs of the rides jobs (no broker)."""

from collections import Counter

import orjson
import pytest

from streams_app import TopologyTestDriver
from streams_app.jobs.rides import parse_ride, read_rides, read_zones, vendor_count_topics
from streams_app.jobs.rides_vendor_count import build_topology


def test_read_rides_types_numbers():
    rides = list(read_rides())
    assert len(rides) == 266
    assert Counter(r["VendorID"] for r in rides) == {2: 179, 1: 87}
    first = rides[0]
    assert isinstance(first["VendorID"], int) and isinstance(first["total_amount"], float)
    assert first["tpep_pickup_datetime"] == "2020-07-01 00:25:32"


def test_read_zones():
    zones = {z["locationid"]: z for z in read_zones()}
    assert len(zones) == 265 and zones[1]["borough"] == "EWR"


def test_parse_ride_reads_vendor_and_amount():
    assert parse_ride(orjson.dumps({"VendorID": 2, "total_amount": 41.5})) == ("2", 41.5)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"total_amount": 3.0}', "missing VendorID"),
        (b'{"VendorID": 1, "total_amount": "ten"}', "total_amount is not a number"),
        (b'{"VendorID": 1}', "total_amount is not a number"),
    ],
)
def test_parse_ride_rejects_bad_records_with_reason(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_ride(value)


def test_vendor_count_topics():
    specs = {s.name: s for s in vendor_count_topics("p-", partitions=3, replicas=1)}
    assert set(specs) == {"p-rides", "p-rides-vendor-count", "p-rides-high-amount",
                          "p-rides-low-amount", "p-rides-dead-letter"}
    assert specs["p-rides-vendor-count"].cleanup_policy == "compact"
    assert specs["p-rides"].partitions == 3


def test_vendor_count_topology_in_the_driver():
    rides = list(read_rides())
    with TopologyTestDriver(build_topology(), {"default_key_serde": "string"}) as driver:
        inp = driver.create_input_topic("rides", "string", "json")
        for i, ride in enumerate(rides):
            inp.pipe_input(str(ride["VendorID"]), ride, timestamp=i)
        counts = driver.create_output_topic("rides-vendor-count", "string", "json")
        assert counts.read_key_values_to_map() == {"1": 87, "2": 179}
        high = driver.create_output_topic("rides-high-amount", "string", "json")
        assert len(high.read_values_to_list()) == 29
        store = driver.get_key_value_store("vendor-count")
        assert store.get("2") == 179
