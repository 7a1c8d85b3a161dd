"""A Faust worker module for one of tests/runtime/restart_topologies.py (TEST_TOPOLOGY)."""

import os

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.restart_topologies import TOPOLOGIES

settings = Settings.from_env()
runtime = FaustRuntime(TOPOLOGIES[os.environ["TEST_TOPOLOGY"]](settings.topic_prefix), settings,
                       config={"default_key_serde": "string"})
app = runtime.app
