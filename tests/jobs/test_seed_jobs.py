"""The seed's jobs in the TopologyTestDriver: their outputs on rides.csv equal plain
computations from the CSV (tests/jobs/plain.py)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from streams_app import Serdes, TopologyTestDriver
from streams_app.jobs import rides_all, rides_price_branch, rides_windowed_count, rides_zone_join
from streams_app.jobs.process import JOB_DESCRIPTIONS, job_module
from streams_app.jobs.rides import (
    RIDE_SOURCES,
    price_branch_topics,
    read_rides,
    rides_all_topics,
    windowed_count_topics,
    zone_join_topics,
    zone_records,
)
from streams_app.state.api import Windowed
from tests.jobs import plain

RIDES = list(read_rides())
CONFIG = {"application_id": "seed-jobs"}
SEED_JOBS = {"rides-windowed-count": rides_windowed_count, "rides-zone-join": rides_zone_join,
             "rides-price-branch": rides_price_branch, "rides-all": rides_all}
README = Path(__file__).parents[2] / "README.md"


def pipe_rides(driver: TopologyTestDriver, rides: list[dict], topic: str = "rides") -> None:
    source = driver.create_input_topic(topic, Serdes.string(), Serdes.json())
    for ride in rides:
        source.pipe_input(str(ride["VendorID"]), ride, timestamp=0)


def dead_letter_messages(driver: TopologyTestDriver) -> list[str]:
    dead = driver.create_output_topic(driver.dead_letter_topic, Serdes.bytes(), Serdes.bytes())
    return [dict(r.headers)["__streams.errors.message"].decode()
            for r in dead.read_records_to_list()]


def windowed_output(driver: TopologyTestDriver) -> dict[Windowed, int]:
    out = driver.create_output_topic(rides_windowed_count.OUTPUT,
                                     rides_windowed_count.windowed_key_serde(), Serdes.long())
    return out.read_key_values_to_map()


def test_windowed_count_per_pickup_window():
    with TopologyTestDriver(rides_windowed_count.build_topology(), CONFIG) as driver:
        pipe_rides(driver, RIDES)
        latest = windowed_output(driver)
    expected = plain.windowed_counts()
    assert sum(expected.values()) == len(RIDES)  # the 8 h grace keeps every ride
    assert {(w.key, w.start): n for w, n in latest.items()} == dict(expected)
    assert all(w.end - w.start == plain.WINDOW_MS for w in latest)


def test_windowed_count_drops_rides_later_than_the_grace():
    grace = timedelta(minutes=5)
    with TopologyTestDriver(rides_windowed_count.build_topology(grace=grace), CONFIG) as driver:
        pipe_rides(driver, RIDES)
        latest = windowed_output(driver)
    expected = plain.windowed_counts(grace_ms=5 * 60 * 1000)
    assert sum(expected.values()) < len(RIDES)
    assert {(w.key, w.start): n for w, n in latest.items()} == dict(expected)


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"tpep_pickup_datetime": None}, "tpep_pickup_datetime is not"),
     ({"tpep_pickup_datetime": "1 July"}, "tpep_pickup_datetime is not"),
     ({"PULocationID": None}, "PULocationID is not a location id")],
)
def test_windowed_count_dead_letters_rides_without_pickup(change, reason):
    with TopologyTestDriver(rides_windowed_count.build_topology(), CONFIG) as driver:
        pipe_rides(driver, [{**RIDES[0], **change}, RIDES[0]])
        latest = windowed_output(driver)
        messages = dead_letter_messages(driver)
    assert len(messages) == 1 and reason in messages[0], messages
    assert list(latest.values()) == [1]


def test_zone_join_counts_per_borough():
    with TopologyTestDriver(rides_zone_join.build_topology(), CONFIG) as driver:
        zones = driver.create_input_topic(rides_zone_join.ZONES_TOPIC, Serdes.string(),
                                          Serdes.json())
        for key, zone in zone_records():
            zones.pipe_input(key, zone, timestamp=0)
        # a ride whose zone is not in the table: dropped by the inner join
        pipe_rides(driver, [*RIDES, {**RIDES[0], "PULocationID": 999}])
        out = driver.create_output_topic(rides_zone_join.OUTPUT, Serdes.string(), Serdes.json())
        latest = out.read_key_values_to_map()
        store = dict(driver.get_key_value_store("borough-count").all())
        assert dead_letter_messages(driver) == []
    expected = plain.borough_counts()
    assert sum(expected.values()) == len(RIDES)
    assert latest == store == dict(expected)


def branch_output(driver: TopologyTestDriver, topic: str) -> Counter[tuple]:
    out = driver.create_output_topic(topic, Serdes.string(), Serdes.json())
    return Counter((k, plain.ride_id(v)) for k, v in out.read_key_values_to_list())


def test_price_branch_membership():
    with TopologyTestDriver(rides_price_branch.build_topology(), CONFIG) as driver:
        pipe_rides(driver, [*RIDES, {"VendorID": 1, "total_amount": "lots"}])
        high = branch_output(driver, "rides-price-high")
        low = branch_output(driver, "rides-price-low")
        messages = dead_letter_messages(driver)
    expected_high, expected_low = plain.price_branches()
    assert sum(expected_high.values()) == 29
    assert (high, low) == (expected_high, expected_low)
    assert len(messages) == 1 and "total_amount is not a number" in messages[0]


def test_rides_all_is_the_multiset_union_of_its_inputs():
    rows = plain.rows()
    with TopologyTestDriver(rides_all.build_topology(), CONFIG) as driver:
        for i, topic in enumerate(RIDE_SOURCES):
            pipe_rides(driver, RIDES[i::len(RIDE_SOURCES)], topic)
        merged = branch_output(driver, rides_all.OUTPUT)
    assert merged == Counter((r["VendorID"], plain.ride_id(r)) for r in rows)
    assert sum(merged.values()) == len(rows) == 266


def test_topic_specs():
    specs = {s.name: s for s in zone_join_topics("p-", partitions=3, replicas=2)}
    assert set(specs) == {"p-rides", "p-taxi-zones", "p-rides-borough-count"}
    # the GlobalKTable's topic: one partition whatever the job's, so the producer and the
    # job declare the same topic
    assert (specs["p-taxi-zones"].partitions, specs["p-taxi-zones"].cleanup_policy) == \
        (1, "compact")
    assert specs["p-rides"].partitions == 3 and specs["p-rides"].replication_factor == 2
    windowed = {s.name: s.cleanup_policy for s in windowed_count_topics("", 1, 1)}
    assert windowed == {"rides": "delete", "rides-pulocation-window-count": "compact"}
    assert {s.name for s in price_branch_topics("", 1, 1)} == \
        {"rides", "rides-price-high", "rides-price-low"}
    assert {s.name for s in rides_all_topics("", 1, 1)} == {*RIDE_SOURCES, "rides-all"}


def test_jobs_are_registered_with_descriptions():
    for job, module in SEED_JOBS.items():
        assert job_module(job) == module.__name__
        assert JOB_DESCRIPTIONS[job]
        assert module.settings.app_id == job  # STREAMS_APP_ID defaults to the job name


@pytest.mark.parametrize("job", SEED_JOBS)
def test_readme_shows_the_jobs_topology(job):
    module = SEED_JOBS[job]
    block = f"`describe()` of `{job}`:\n\n```\n{module.build_topology().describe()}\n```"
    assert block in README.read_text(), f"README's describe() of {job} is out of date"
