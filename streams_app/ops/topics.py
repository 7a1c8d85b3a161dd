"""``streams-app topics JOB``: the job's topics as the broker has them (missing ones marked)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from streams_app.kafka.admin import TopicDescription, _describe, admin_client
from streams_app.ops.job import JobInfo

__all__ = ["TopicReport", "describe_job_topics", "format_json", "format_table"]

#: Configs shown by default: what decides retention, compaction and durability.
KEY_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas",
               "max.message.bytes")


@dataclass(frozen=True)
class TopicReport:
    """One topic of the job: its role and the broker's description (None: missing)."""

    name: str
    role: str
    description: TopicDescription | None

    def configs(self, keys: tuple[str, ...] | None = KEY_CONFIGS) -> dict[str, str]:
        if self.description is None:
            return {}
        configs = self.description.configs
        return dict(sorted(configs.items())) if keys is None else \
            {k: configs[k] for k in keys if k in configs}


async def describe_job_topics(job: JobInfo) -> list[TopicReport]:
    """Every topic the job reads, writes or owns, described through the secured admin client."""
    roles = job.topics()
    settings = job.settings
    async with admin_client(settings.bootstrap_servers, settings=settings) as client:
        found = await _describe(client, list(roles))
    return [TopicReport(name, role, found.get(name)) for name, role in roles.items()]


def format_table(job: JobInfo, reports: list[TopicReport], all_configs: bool = False) -> str:
    keys = None if all_configs else KEY_CONFIGS
    rows = [("ROLE", "TOPIC", "PARTITIONS", "REPLICAS", "CONFIGS")]
    for r in reports:
        d = r.description
        if d is None:
            rows.append((r.role, r.name, "MISSING", "-", "-"))
            continue
        configs = " ".join(f"{k}={v}" for k, v in r.configs(keys).items())
        rows.append((r.role, r.name, str(d.partitions), str(d.replication_factor), configs))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"topics of job {job.name} (application id {job.app_id}, "
             f"bootstrap {job.settings.bootstrap_servers})"]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
              for row in rows]
    missing = sum(r.description is None for r in reports)
    if missing:
        lines.append(f"{missing} topic(s) missing: a worker creates them when it starts")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def format_json(job: JobInfo, reports: list[TopicReport], all_configs: bool = False) -> str:
    keys = None if all_configs else KEY_CONFIGS
    out = {"job": job.name, "application_id": job.app_id, "topics": [
        {"name": r.name, "role": r.role, "exists": r.description is not None,
         "partitions": r.description.partitions if r.description else None,
         "replication_factor": r.description.replication_factor if r.description else None,
         "configs": r.configs(keys)}
        for r in reports]}
    return json.dumps(out, indent=2) + "\n"
