"""Buckets of the profile table: which part of the worker a py-spy sample belongs to.

A sample is a stack (outermost frame first). The innermost frame that matches a rule decides
(a store write inside a processor is the store's), so every sample counts once. Rules match
``function (file`` text as py-spy prints it.
"""

from __future__ import annotations

import re
from collections import Counter

# (bucket, regex over one frame). The first ANYWHERE buckets claim a sample if any frame of
# it matches (the producer's socket writes are produce work); the others go by the innermost
# frame that matches, rules in order (a cache flush on commit is store work).
ANYWHERE = 2
BUCKETS: list[tuple[str, str]] = [
    ("excluded: start-up, rebalance, shutdown, final reads",
     r"<frozen importlib|^_results \(bench/contestants|on_partitions_(?:assigned|revoked) |"
     r"\.on_rebalance |stop_and_shutdown |\.on_first_start |^tune_gc "),
    ("produce", r"\(streams_app/runtime/producing\.py|\(aiokafka/producer/"),
    ("changelog serialization",
     r"\((?:streams_app/state/store_serdes|streams_app/runtime/record_collector)\.py"),
    ("key and value deserialization", r"\.(?:deserialize|presence) \(streams_app/serdes\.py"),
    ("sink serialization", r"\.serialize \(streams_app/serdes\.py|\(streams_app/processors/sink"),
    ("store and cache", r"\(streams_app/state/|\(rocksdict"),
    ("processor calls", r"\(streams_app/(?:processors|dsl)/|^<lambda> \(<string>"),
    ("task loop", r"\(streams_app/runtime/task\.py"),
    ("aiokafka record decoding",
     r"\(aiokafka/record/|\(streams_app/runtime/lean_records\.py|_consumer_record |_lean_batches\b|"
     r"PartitionRecords|FetchResult|\(aiokafka/protocol/"),
    ("commit (offsets, checkpoint)",
     r"\._?commit_tps |\(streams_app/runtime/(?:checkpoint|transactions)\.py|"
     r"MeteredCheckpoint\.|Consumer\.commit |\(aiokafka/consumer/group_coordinator"),
    ("event loop and network (epoll waits included)",
     r"\((?:asyncio/|selectors\.py|socket\.py|aiokafka/conn)"),
    ("handler and runtime glue", r"\(streams_app/|\(faust/|\(mode/|\(bench/contestants"),
    ("other", r"."),
]

_RULES = [(name, re.compile(rx)) for name, rx in BUCKETS]
_FRAME = re.compile(r"[^;]+")
# every sample of the running worker is inside this frame (the contestant calls it)
_WORKER = re.compile(r"execute_from_commandline \(mode/worker")


def bucket_of(frames: list[str]) -> str:
    """The bucket of one sample (frames outermost first, as :func:`_strip_site` leaves them)."""
    if not any(_WORKER.search(f) for f in frames):  # before or after the worker runs
        return _RULES[0][0]
    for rule_name, rx in _RULES[:ANYWHERE]:
        if any(rx.search(f) for f in frames):
            return rule_name
    for frame in reversed(frames):
        for rule_name, rx in _RULES[ANYWHERE:-1]:
            if rx.search(frame):
                return rule_name
    return _RULES[-1][0]


def _strip_site(frame: str) -> str:
    # py-spy prints paths relative to sys.path when it can, absolute otherwise
    return re.sub(r"\(/[^()]*?/(?:site-packages|wt-[\w-]+|main)/", "(", frame)


def classify_raw(text: str) -> Counter:
    """Samples per bucket of py-spy's ``--format raw`` output (``stack count`` lines);
    the excluded bucket is dropped."""
    counts: Counter = Counter()
    for line in text.splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        counts[bucket_of([_strip_site(f) for f in _FRAME.findall(stack)])] += int(n)
    counts.pop(_RULES[0][0], None)
    return counts
