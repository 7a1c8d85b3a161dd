"""Contestants: one module each, exposing ``run(cfg: RunConfig) -> RunResult``.

A contestant consumes ``cfg.input_topic`` from the earliest offset with the fresh group id
``cfg.group_id``, computes ``cfg.pipeline`` and returns its final ``{result_key: count}`` (see
``bench.pipelines``), stopping once the counts sum to the records it must cover. It raises
``bench.common.Missing`` for a pipeline it does not have. ``bench.child`` runs it in its own
process.
"""

MODULES = {
    "streams_app": "bench.contestants.streams_app",
    "faust": "bench.contestants.faust_agents",
    "quixstreams": "bench.contestants.quix",
    "aiokafka": "bench.contestants.raw_aiokafka",
    "aiokafka_keys": "bench.contestants.raw_aiokafka_keys",
    "kafka_streams": "bench.contestants.kafka_streams",
    # Not a contestant of the comparison: the metrics-off variant (bench.metrics_overhead).
    "streams_app_nometrics": "bench.contestants.streams_app_nometrics",
    # Nor this: the worker with its web server and dashboard on (bench.dashboard_overhead).
    "streams_app_web": "bench.contestants.streams_app_web",
}
