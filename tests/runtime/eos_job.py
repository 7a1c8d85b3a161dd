"""A Faust worker for the exactly-once tests (tests/runtime/eos_topologies.py).

``EOS_TOPOLOGY`` picks ``count`` or ``regroup_count``; settings come from ``STREAMS_*``.
"""

import os

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.eos_topologies import build

settings = Settings.from_env()
runtime = FaustRuntime(build(os.environ["EOS_TOPOLOGY"], settings.topic_prefix), settings,
                       config={"default_key_serde": "string"})
app = runtime.app
