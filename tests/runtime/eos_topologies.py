"""Topologies of the exactly-once tests: a count per key, or per new key (repartition).

Both publish every count update (run them with the record cache off) to ``<prefix>out``. They
are the chaos suite's topologies (``chaos.topology``): the same jobs, faulted there.
"""

from chaos.topology import GROUPS, build, group_of

__all__ = ["GROUPS", "build", "group_of"]
