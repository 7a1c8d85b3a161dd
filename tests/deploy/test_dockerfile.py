"""The job image's Dockerfile, read instruction by instruction (no engine here to build it)."""

from __future__ import annotations

import fnmatch
import json
import shlex

import pytest

from streams_app.settings import Settings
from tests.deploy.conftest import DOCKERFILE, DOCKERIGNORE


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, args = line.partition(" ")
        out.append((word.upper(), args.strip()))
    return out


def env_of(instrs: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in instrs:
        if word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DOCKERFILE.read_text())


def test_slim_python_base_with_a_version(dockerfile: list[tuple[str, str]]) -> None:
    (base,) = [args for word, args in dockerfile if word == "FROM"]
    image, _, tag = base.partition(":")
    assert image == "python" and "slim" in tag and tag[0].isdigit(), base


def test_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    users = [(i, args) for i, (word, args) in enumerate(dockerfile) if word == "USER"]
    assert users, "no USER: the container would run as root"
    last_index, user = users[-1]
    name = user.split(":")[0]
    assert name not in {"root", "0"}, user
    entry = [i for i, (word, _) in enumerate(dockerfile) if word == "ENTRYPOINT"][-1]
    assert last_index < entry
    # The user is created in the image with that uid.
    assert any(word == "RUN" and f"--uid {name}" in args for word, args in dockerfile)


def test_data_dir_is_a_volume_owned_by_the_user(dockerfile: list[tuple[str, str]]) -> None:
    env = env_of(dockerfile)
    settings = Settings.from_env(env)  # every STREAMS_* value in the image is valid
    volumes = [v for word, args in dockerfile if word == "VOLUME" for v in json.loads(args)]
    assert str(settings.data_dir) in volumes
    assert any(word == "RUN" and f"chown streams:streams {settings.data_dir}" in args
               for word, args in dockerfile)


def test_entrypoint_runs_the_job_named_by_JOB(dockerfile: list[tuple[str, str]]) -> None:
    (entry,) = [json.loads(args) for word, args in dockerfile if word == "ENTRYPOINT"]
    assert entry[:2] == ["/bin/sh", "-c"]
    assert entry[2].startswith('exec streams-app job "$JOB"'), entry
    assert env_of(dockerfile)["JOB"] == "rides-vendor-count"


def test_healthcheck_asks_health_on_the_web_port(dockerfile: list[tuple[str, str]]) -> None:
    (check,) = [args for word, args in dockerfile if word == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert "/health" in command[-1] and "STREAMS_WEB_PORT" in command[-1]
    env = env_of(dockerfile)
    assert Settings.from_env(env).web_enabled is True
    assert any(word == "EXPOSE" and args == env["STREAMS_WEB_PORT"] for word, args in dockerfile)


def test_dockerignore_keeps_what_the_image_copies(dockerfile: list[tuple[str, str]]) -> None:
    patterns = [p for p in DOCKERIGNORE.read_text().splitlines() if p and not p.startswith("#")]

    def ignored(path: str) -> bool:
        result = False
        for p in patterns:  # the last matching pattern wins; "!" re-includes
            neg = p.startswith("!")
            if fnmatch.fnmatch(path, p.lstrip("!")) or path.startswith(p.lstrip("!") + "/"):
                result = not neg
        return result

    copied = [src for word, args in dockerfile if word == "COPY" for src in args.split()[:-1]]
    assert copied and not [c for c in copied if ignored(c.rstrip("/"))], copied
    for heavy in (".git", ".venv", ".cache", "tests", "streams-data"):
        assert ignored(heavy), heavy
