"""The chaos suite's worker: a count per key (``CHAOS_TOPOLOGY=count``) or per new key through
a repartition topic (``regroup_count``); every count update goes to ``<prefix>out``."""

import os

from chaos.topology import build
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

settings = Settings.from_env()
runtime = FaustRuntime(build(os.environ.get("CHAOS_TOPOLOGY", "count"), settings.topic_prefix),
                       settings, config={"default_key_serde": "string"})
app = runtime.app
