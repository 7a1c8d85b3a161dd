"""Fault-injection suite (``make chaos``, ``python -m chaos``): real brokers from the project's
launcher, workers as :class:`~streams_app.jobs.process.JobProcess`, faults at random points
from a printed seed, outputs checked with read_committed readers against exact expectations
computed from the input topic. See RELIABILITY.md."""
