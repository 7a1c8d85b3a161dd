"""With the record cache on, downstream sees fewer updates but the same final results."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams_app import StreamsBuilder, TopologyTestDriver
from streams_app.serdes import JsonSerde, LongSerde, StringSerde

S, J, L = StringSerde(), JsonSerde(), LongSerde()

rows = st.lists(
    st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]),
              st.one_of(st.none(), st.sampled_from(["eu", "us", "ap"]))),
    max_size=40,
)


def topology():  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    users = b.table("users", key_serde=S, value_serde=S)
    users.group_by(lambda u, region: (region, u)).count("per-region").to_stream() \
        .to("region-counts", value_serde=L)
    b.stream("events", key_serde=S, value_serde=S).flat_map_values(lambda v: [v, v]) \
        .group_by(lambda k, v: v).count("per-value").to_stream().to("value-counts",
                                                                      value_serde=L)
    return b.build()


def run(cache: int, data: list[tuple[str, str | None]]) -> tuple[dict, dict, dict, dict]:
    with TopologyTestDriver(topology(), {"cache_max_entries": cache}) as driver:
        users = driver.create_input_topic("users", S, S)
        events = driver.create_input_topic("events", S, S)
        for ts, (user, region) in enumerate(data):
            users.pipe_input(user, region, timestamp=ts)
            if region is not None:
                events.pipe_input(user, region, timestamp=ts)
        return (
            dict(driver.get_key_value_store("per-region").all()),
            dict(driver.get_key_value_store("per-value").all()),
            driver.create_output_topic("region-counts", S, L).read_key_values_to_map(),
            driver.create_output_topic("value-counts", S, L).read_key_values_to_map(),
        )


@settings(max_examples=60, deadline=None)
@given(rows)
def test_cache_on_and_off_agree_on_final_results(data: list[tuple[str, str | None]]) -> None:
    off, on = run(0, data), run(1000, data)
    assert on == off
    # the counts are right: one per user currently in a region
    latest: dict[str, str | None] = {}
    for user, region in data:
        latest[user] = region
    expected = {}
    for region in latest.values():
        if region is not None:
            expected[region] = expected.get(region, 0) + 1
    assert {k: v for k, v in off[0].items() if v} == expected
