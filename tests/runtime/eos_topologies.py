"""Topologies of the exactly-once tests: a count per key, or per new key (repartition).

Both publish every count update (run them with the record cache off) to ``<prefix>out``.
"""

from streams_app import Grouped, Materialized, Serdes, StreamsBuilder, Topology

S, J = Serdes.string(), Serdes.json()
GROUPS = 5


def group_of(value: dict) -> str:
    """The new key of the repartitioning topology."""
    return f"g{value['n'] % GROUPS}"


def build(topology: str, prefix: str) -> Topology:
    """``count``: count by input key; ``regroup_count``: count by :func:`group_of`."""
    b = StreamsBuilder()
    stream = b.stream(f"{prefix}in", key_serde=S, value_serde=J)
    if topology == "count":
        grouped = stream.group_by_key()
    else:
        grouped = stream.group_by(lambda k, v: group_of(v), Grouped(name="by-group", key_serde=S))
    grouped.count(Materialized.as_("counts")).to_stream().to(f"{prefix}out", value_serde=J)
    return b.build()

