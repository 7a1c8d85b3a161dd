"""The benchmark brokers: the project's local Kafka with the JVM tuned for throughput."""

from __future__ import annotations

from pathlib import Path

from streams_app.kafka.broker import LocalKafkaCluster, _Node

# The test launcher stops the JIT at C1 and uses the serial collector for a fast start; a
# benchmark broker moves hundreds of MB, so it gets the full tiered JIT and the JVM settings
# Kafka's own start scripts use: a fixed heap (kafka-server-start.sh: -Xms = -Xmx) and G1
# tuned for short pauses (kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS). With the test
# launcher's small initial heap, G1 grew the heap in steps and ran a concurrent cycle every
# other young collection; each pause holds every client's requests (the latency test's p99).
_TEST_ONLY_FLAGS = frozenset({"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"})
KAFKA_PERFORMANCE_OPTS = ("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                          "-XX:InitiatingHeapOccupancyPercent=35",
                          "-XX:+ExplicitGCInvokesConcurrent")


class BenchKafkaCluster(LocalKafkaCluster):
    """Loopback Kafka nodes (3 by default: the scale-out series) with full JIT, Kafka's G1
    settings and a fixed heap."""

    def __init__(self, brokers: int = 3, heap_mb: int = 768, **kwargs: object) -> None:
        super().__init__(brokers=brokers, heap_mb=heap_mb, **kwargs)  # type: ignore[arg-type]

    def _java_cmd(
        self, java: str, libs: Path, node: _Node, heap_mb: int, dump: bool = False
    ) -> list[str]:
        # The class-data archive is keyed by the test flags; a throughput JVM neither writes
        # nor needs it, so ask for the command without the dump and drop the test-only flags.
        cmd = super()._java_cmd(java, libs, node, heap_mb, dump=False)
        cmd = [f"-Xms{heap_mb}m" if arg.startswith("-Xms") else arg
               for arg in cmd if arg not in _TEST_ONLY_FLAGS]
        return [cmd[0], *KAFKA_PERFORMANCE_OPTS, *cmd[1:]]


class BenchKafka(BenchKafkaCluster):
    """Single-node loopback Kafka with full JIT, Kafka's G1 settings and a 1 GiB heap (the
    heap kafka-server-start.sh gives a broker)."""

    def __init__(self, heap_mb: int = 1024, **kwargs: object) -> None:
        super().__init__(brokers=1, heap_mb=heap_mb, **kwargs)
