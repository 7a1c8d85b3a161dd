"""The package as a user gets it: `python -m build` makes an sdist and, from it, a wheel; the
wheel installs into a new venv outside the checkout and runs the taxi job on the test broker.

The version is defined once (``streams_app.__version__``); the wheel's metadata, the installed
``streams-app --version`` and the package agree on it.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import streams_app
from streams_app.cli import main
from streams_app.kafka.reader import group_stable, latest_by_key, wait_until

ROOT = Path(__file__).resolve().parents[1]
VERSION = streams_app.__version__
# Rides per vendor in streams_app/jobs/data/rides.csv (tests/jobs/test_rides.py checks the file).
VENDOR_COUNTS = {"1": 87, "2": 179}


def run(argv: list[str], *, timeout: float, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure the assertion shows its output."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def source_files() -> list[str]:
    """The checkout's files as a clone would have them once committed: tracked or not ignored
    (no build output, egg-info, venv, caches; a stale *.egg-info/SOURCES.txt would even put
    files in the sdist that pyproject.toml no longer declares)."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                 timeout=60, cwd=ROOT).stdout.split("\0")
    return sorted(f for f in listed if f and (ROOT / f).is_file())


def package_data() -> set[str]:
    """Every non-Python file of the package (data, web assets), as a path in the checkout."""
    return {f for f in source_files() if f.startswith("streams_app/") and not f.endswith(".py")}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built the default way (the wheel from the unpacked sdist), from a copy of
    the checkout's source files."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], timeout=300)
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return sdist, wheel


def user_env(venv: Path) -> dict[str, str]:
    """The environment of a user's shell with ``venv`` active: nothing points into the checkout
    (with PYTHONPATH at the checkout, pip would even take its egg-info for an installed copy)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("STREAMS_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.fixture(scope="module")
def venv(dists: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv outside the checkout with the wheel (and its dependencies) installed."""
    where = tmp_path_factory.mktemp("venv")
    assert not where.is_relative_to(ROOT)
    env = user_env(where)
    run([sys.executable, "-m", "venv", str(where)], timeout=120, cwd=where, env=env)
    run([str(where / "bin" / "pip"), "install", "-q", str(dists[1])], timeout=600, cwd=where,
        env=env)
    return where


@pytest.fixture
def outside_env(venv: Path) -> dict[str, str]:
    return user_env(venv)


def test_version_option(capsys: pytest.CaptureFixture[str]) -> None:
    for option in ("--version", "-V"):
        assert main([option]) == 0
        assert capsys.readouterr().out == f"streams-app {VERSION}\n"


def test_version_is_written_once() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.?(a|b|rc|dev|post)\d+)?", VERSION), VERSION
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "streams_app.__version__" }' in pyproject
    quoted = re.compile(rf"""["']{re.escape(VERSION)}["']""")
    places = [str(p.relative_to(ROOT)) for p in [ROOT / "pyproject.toml",
                                                 *(ROOT / "streams_app").rglob("*.py")]
              if quoted.search(p.read_text())]
    assert places == ["streams_app/__init__.py"]


def test_wheel_has_the_package_data_and_the_version(dists: tuple[Path, Path]) -> None:
    data = package_data()
    assert {"streams_app/jobs/data/rides.csv", "streams_app/jobs/data/taxi_zone_lookup.csv"} <= data
    assert {f"streams_app/dashboard/static/{asset}"
            for asset in ("index.html", "app.js", "style.css")} <= data
    with zipfile.ZipFile(dists[1]) as whl:
        names = set(whl.namelist())
        assert data <= names, f"package data missing from the wheel: {sorted(data - names)}"
        meta = email.message_from_bytes(
            whl.read(f"streams_app-{VERSION}.dist-info/METADATA"))
        entry_points = whl.read(f"streams_app-{VERSION}.dist-info/entry_points.txt").decode()
        rides = whl.read("streams_app/jobs/data/rides.csv")
    assert rides == (ROOT / "streams_app/jobs/data/rides.csv").read_bytes()
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "streams_app").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert not any(n.startswith("tests/") for n in names)
    assert (meta["Name"], meta["Version"]) == ("streams_app", VERSION)
    assert "streams-app = streams_app.cli:main" in entry_points
    assert dists[1].name == f"streams_app-{VERSION}-py3-none-any.whl"


def test_sdist_has_what_builds_the_wheel(dists: tuple[Path, Path]) -> None:
    top = f"streams_app-{VERSION}"
    with tarfile.open(dists[0]) as sdist:
        names = {n.removeprefix(f"{top}/") for n in sdist.getnames()}
        meta = email.message_from_bytes(sdist.extractfile(f"{top}/PKG-INFO").read())
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "MANIFEST.in"} <= names
    assert package_data() <= names
    assert "streams_app/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)  # the suite needs the repository
    assert meta["Version"] == VERSION


def test_installed_cli_prints_the_version(venv: Path, outside_env: dict[str, str],
                                          tmp_path: Path) -> None:
    done = run([str(venv / "bin" / "streams-app"), "--version"], timeout=120, cwd=tmp_path,
               env=outside_env)
    assert done.stdout == f"streams-app {VERSION}\n"
    where = run([str(venv / "bin" / "python"), "-c",
                 "import importlib.metadata as m, streams_app as s; "
                 "print(s.__file__, s.__version__, m.version('streams_app'))"],
                timeout=120, cwd=tmp_path, env=outside_env).stdout.split()
    assert Path(where[0]).is_relative_to(venv), where  # the install, not the checkout
    assert where[1:] == [VERSION, VERSION]


async def test_taxi_job_runs_from_the_install(venv: Path, outside_env: dict[str, str],
                                              kafka_bootstrap: str, unique_name: str,
                                              tmp_path: Path) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    cli, prefix, app_id = str(venv / "bin" / "streams-app"), f"{unique_name}-", unique_name
    env = {**outside_env, "STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "STREAMS_APP_ID": app_id, "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PARTITIONS": "2",
           "STREAMS_TOPIC_REPLICATION_FACTOR": "1", "STREAMS_COMMIT_INTERVAL_MS": "500"}
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([cli, "job", "rides-vendor-count"], cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def alive() -> None:
        assert worker.poll() is None, f"worker exited:\n{log.read_text(errors='replace')[-4000:]}"

    try:
        async def joined() -> bool:  # the worker has created its topics and owns the partitions
            alive()
            return await group_stable(kafka_bootstrap, app_id)

        await wait_until(joined, 90, f"{app_id} to join its group")
        # `streams-app job` execs the worker: the venv's interpreter running Faust's CLI
        # through the job-checking entry point.
        argv = Path(f"/proc/{worker.pid}/cmdline").read_bytes().decode().split("\0")
        assert Path(argv[0]).parent == venv / "bin", argv
        assert argv[1:3] == ["-m", "streams_app.jobs.worker"], argv
        sent = run([cli, "produce-rides", "--bootstrap-servers", kafka_bootstrap,
                    "--topic", f"{prefix}rides"], timeout=120, cwd=tmp_path, env=env)
        assert "sent 266 records" in sent.stdout, sent.stdout

        async def counted() -> bool:
            alive()
            try:
                table = await latest_by_key(kafka_bootstrap, f"{prefix}rides-vendor-count")
            except LookupError:
                return False
            return {k.decode(): int(v) for k, v in table.items()} == VENDOR_COUNTS

        await wait_until(counted, 90, "the per-vendor counts 87 / 179")
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
