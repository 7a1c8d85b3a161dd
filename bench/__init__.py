"""Benchmark harness: streams_app against faust, Quix Streams, raw aiokafka and Kafka Streams.

``python -m bench.run`` (``make bench`` / ``make bench-quick``) starts a local broker, generates the
input topic once, runs every contestant on every pipeline in its own subprocess, verifies the
results and writes ``bench/results/latest.json``, ``BENCHMARKS.md`` and ``bench/results/chart.png``.
"""
