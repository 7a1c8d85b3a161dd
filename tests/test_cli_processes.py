"""``streams-app job NAME --processes N``: arguments, per-worker settings, and the supervisor
(signal forwarding, exit reporting, the kill after the stop timeout) on plain child processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

import streams_app
from streams_app.cli import main
from streams_app.jobs.process import worker_argv
from streams_app.ops.processes import create_data_dirs, prefixed, worker_envs
from streams_app.settings import ConfigError, Settings

# A stand-in worker: says it is ready, then exits on SIGTERM with CODE_ON_TERM (or ignores it).
# It also ends once orphaned, so a failed test leaves no process behind.
CHILD = """
import os, signal, sys, time
def stop(signum, frame):
    print(f"stopped by {signal.Signals(signum).name}", flush=True)
    sys.exit(int(os.environ["CODE_ON_TERM"]))
signal.signal(signal.SIGTERM, signal.SIG_IGN if os.environ.get("IGNORE") else stop)
signal.signal(signal.SIGINT, stop)
parent = os.getppid()
print("ready", flush=True)
if os.environ.get("EXIT_NOW"):
    sys.exit(int(os.environ["EXIT_NOW"]))
while os.getppid() == parent:
    time.sleep(0.2)
"""

# The supervisor in a process of its own, as `streams-app job --processes N` runs: the test's
# process belongs to pytest (and to execnet under pytest-xdist), whose signal state and threads
# must not decide the outcome. Signals start unblocked, as from a shell.
UNREAPED = 9
SUPERVISOR = f"""
import json, os, signal, sys
signal.pthread_sigmask(signal.SIG_SETMASK, [])
from streams_app.ops.processes import Supervisor
envs, stop_timeout_s, child = json.loads(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
sup = Supervisor([sys.executable, "-c", child], [{{**os.environ, **e}} for e in envs],
                 stop_timeout_s=stop_timeout_s)
code = sup.run()
sys.exit({UNREAPED} if any(w.proc.returncode is None for w in sup.workers) else code)
"""
# Only a hang guard: a stand-in worker is ready within a second.
READY_GUARD_S = 60.0
# Past the stop timeout (when the supervisor kills what is left): its own exit and teardown.
EXIT_MARGIN_S = 30.0


class Lines:
    """Text a process writes; tests wait on what has arrived (or on its end)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.text = ""
        self.closed = False
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in stream:
            with self._cond:
                self.text += raw.decode(errors="replace")
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait_for(self, count: int, needle: str) -> bool:
        """True once ``needle`` arrived ``count`` times; False if the stream ended first."""
        with self._cond:
            self._cond.wait_for(lambda: self.text.count(needle) >= count or self.closed,
                                READY_GUARD_S)
            return self.text.count(needle) >= count

    def join(self) -> str:
        self._reader.join()
        return self.text


def supervise(envs: list[dict[str, str]], stop_timeout_s: float = 10.0,
              signum: int = signal.SIGTERM, after: str = "",
              ) -> tuple[int, str, str]:
    """Run a Supervisor over CHILD workers in a child process; send it ``signum`` once every
    worker said it is ready (and ``after`` was reported). Returns the supervisor's exit code,
    the relayed output and the reports."""
    root = str(Path(streams_app.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, json.dumps([{"CODE_ON_TERM": "0", **e} for e in envs]),
         str(stop_timeout_s), CHILD],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        ready = out.wait_for(len(envs), "ready") and err.wait_for(1 if after else 0, after)
        assert ready, f"workers not ready:\n{out.text}\n{err.text}"
        proc.send_signal(signum)
        code = proc.wait(stop_timeout_s + EXIT_MARGIN_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.join()
        err.join()
    assert code != UNREAPED, err.text
    return code, out.text, err.text


def test_worker_envs_give_each_a_data_dir_and_a_web_port(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", web_enabled=True, web_port=7000)
    envs = worker_envs(settings, 3, {"KEEP": "1"})
    dirs = [tmp_path / "data" / f"p{i}" for i in range(3)]
    assert [e["STREAMS_DATA_DIR"] for e in envs] == [str(d) for d in dirs]
    assert [e["STREAMS_WEB_PORT"] for e in envs] == ["7000", "7001", "7002"]
    assert all(e["KEEP"] == "1" for e in envs)
    create_data_dirs(envs)  # Faust makes only the last level of its data dir
    assert all(d.is_dir() for d in dirs)


def test_worker_envs_leave_the_port_alone_without_the_web_server(tmp_path: Path) -> None:
    envs = worker_envs(Settings(data_dir=tmp_path, web_port=65535), 2, {})
    assert all("STREAMS_WEB_PORT" not in e for e in envs)


def test_ports_past_65535_are_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"STREAMS_WEB_PORT \(web_port\).*65535..65536"):
        worker_envs(Settings(web_enabled=True, web_port=65535), 2, {})


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_processes_must_be_a_positive_number(value: str, capsys) -> None:
    assert main(["job", "rides-vendor-count", "--processes", value]) == 2
    assert "--processes" in capsys.readouterr().err


def test_a_bad_setting_fails_before_any_worker_starts(monkeypatch, capsys) -> None:
    monkeypatch.setenv("STREAMS_WEB_PORT", "0")
    assert main(["job", "rides-vendor-count", "--processes", "2"]) == 1
    assert "STREAMS_WEB_PORT (web_port)" in capsys.readouterr().err


@pytest.mark.parametrize(("level", "faust"), [("warning", "warn"), ("critical", "crit"),
                                              ("info", "info")])
def test_the_settings_log_level_is_spelled_as_faust_wants(level: str, faust: str) -> None:
    argv = worker_argv("m", level)
    assert argv[argv.index("-l") + 1] == faust


def test_lines_are_marked_with_the_worker() -> None:
    assert prefixed("p1", "started\n", json_logs=False) == "p1 | started\n"
    assert prefixed("p0", '{"msg": "x"}\n', json_logs=True) == '{"process": "p0", "msg": "x"}\n'
    assert prefixed("p0", "banner\n", json_logs=True) == "p0 | banner\n"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_reaches_every_worker(signum: int) -> None:
    code, out, err = supervise([{}, {}], signum=signum)
    assert code == 0
    for name in ("p0", "p1"):
        assert f"{name} | stopped by {signal.Signals(signum).name}" in out
        assert f"{name} (pid" in err
    assert "unexpectedly" not in err


def test_a_worker_failing_on_stop_makes_the_exit_code_non_zero() -> None:
    code, _, err = supervise([{}, {"CODE_ON_TERM": "3"}])
    assert code == 1
    assert "p1 (pid" in err and "exited with code 3" in err


def test_a_worker_that_dies_is_reported_and_the_others_keep_running() -> None:
    code, out, err = supervise([{}, {"EXIT_NOW": "4"}], after="unexpectedly")
    assert code == 1
    assert "exited with code 4 unexpectedly; still running: p0" in err
    assert "p0 | stopped by SIGTERM" in out  # p0 ran until the signal


def test_a_worker_still_running_after_the_timeout_is_killed() -> None:
    code, out, err = supervise([{}, {"IGNORE": "1"}], stop_timeout_s=0.5)
    assert code == 1
    assert "p0 | stopped by SIGTERM" in out
    assert "p1 (pid" in err and "SIGKILL" in err and "killed by SIGKILL" in err
