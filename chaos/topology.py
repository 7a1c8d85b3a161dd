"""The chaos suite's topologies: a count per key, or per new key through a repartition topic."""

from streams_app import Grouped, Materialized, Serdes, StreamsBuilder, Topology

S, J = Serdes.string(), Serdes.json()
GROUPS = 5


def group_of(value: dict) -> str:
    """The new key of ``regroup_count``."""
    return f"g{value['n'] % GROUPS}"


def build(topology: str, prefix: str) -> Topology:
    """``count``: by input key; ``regroup_count``: by :func:`group_of`; updates to ``out``."""
    b = StreamsBuilder()
    stream = b.stream(f"{prefix}in", key_serde=S, value_serde=J)
    if topology == "count":
        grouped = stream.group_by_key()
    else:
        grouped = stream.group_by(lambda k, v: group_of(v), Grouped(name="by-group", key_serde=S))
    grouped.count(Materialized.as_("counts")).to_stream().to(f"{prefix}out", value_serde=J)
    return b.build()
