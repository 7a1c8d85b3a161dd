"""The benchmark brokers: the project's local Kafka with the JVM tuned for throughput."""

from __future__ import annotations

from pathlib import Path

from streams_app.kafka.broker import LocalKafkaCluster, _Node

# The test launcher stops the JIT at C1 and uses the serial collector for a fast start; a
# benchmark broker moves hundreds of MB, so it gets the full tiered JIT and the default GC.
_TEST_ONLY_FLAGS = frozenset({"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"})


class BenchKafkaCluster(LocalKafkaCluster):
    """Loopback Kafka nodes (3 by default: the scale-out series) with full JIT and default GC."""

    def __init__(self, brokers: int = 3, heap_mb: int = 768, **kwargs: object) -> None:
        super().__init__(brokers=brokers, heap_mb=heap_mb, **kwargs)  # type: ignore[arg-type]

    def _java_cmd(
        self, java: str, libs: Path, node: _Node, heap_mb: int, dump: bool = False
    ) -> list[str]:
        # The class-data archive is keyed by the test flags; a throughput JVM neither writes
        # nor needs it, so ask for the command without the dump and drop the test-only flags.
        cmd = super()._java_cmd(java, libs, node, heap_mb, dump=False)
        return [arg for arg in cmd if arg not in _TEST_ONLY_FLAGS]


class BenchKafka(BenchKafkaCluster):
    """Single-node loopback Kafka with full JIT, default GC and a 1 GiB heap."""

    def __init__(self, heap_mb: int = 1024, **kwargs: object) -> None:
        super().__init__(brokers=1, heap_mb=heap_mb, **kwargs)
