# A job image: `docker build -t streams-app:0.1.0 .`, then
#   docker run -e JOB=rides-vendor-count -e STREAMS_BOOTSTRAP_SERVERS=broker:9092 streams-app:0.1.0
# Settings come from STREAMS_* variables (README, "Production"); JOB names the job to run
# (streams_app/jobs/process.py JOBS, or a module path). Extra arguments go to `faust worker`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/streams-app
COPY pyproject.toml README.md ./
COPY streams_app ./streams_app
# rocksdict, orjson, aiokafka and crc32c ship manylinux wheels: no compiler needed.
RUN pip install '.[fast]' \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin streams \
 && mkdir -p /var/lib/streams-app \
 && chown streams:streams /var/lib/streams-app

ENV JOB=rides-vendor-count \
    STREAMS_DATA_DIR=/var/lib/streams-app \
    STREAMS_WEB_ENABLED=true \
    STREAMS_WEB_PORT=6066

# RocksDB stores and checkpoints: keep them across restarts to avoid a full changelog restore.
VOLUME ["/var/lib/streams-app"]
EXPOSE 6066
USER 10001:10001

# /health: the worker's event loop answers (python: the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://localhost:%s/health' % os.environ.get('STREAMS_WEB_PORT', '6066'), timeout=4)"]

# exec: the worker is PID 1 and gets SIGTERM directly (a clean shutdown commits and leaves
# the group).
ENTRYPOINT ["/bin/sh", "-c", "exec streams-app job \"$JOB\" \"$@\"", "streams-app"]
