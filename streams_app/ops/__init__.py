"""Operator tooling behind ``streams-app describe | topics | reset``: a job's topology, topics
and state as loaded from its module, without starting a worker."""
