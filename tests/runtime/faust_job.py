"""A Faust worker module for one of tests/runtime/topologies.py (chosen by TEST_TOPOLOGY)."""

import os

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.topologies import CASES

settings = Settings.from_env()
runtime = FaustRuntime(CASES[os.environ["TEST_TOPOLOGY"]].build(settings.topic_prefix), settings,
                       config={"default_key_serde": "string"})
app = runtime.app
