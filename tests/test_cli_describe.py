"""``streams-app describe``: Kafka's text, and Mermaid / dot output that the real parsers accept
(mermaid's own parser under node, installed from npm on first use; pydot and Graphviz's dot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pydot
import pytest

from streams_app import Grouped, Materialized, Serdes, StreamsBuilder, Topology
from streams_app.cli import main
from streams_app.dsl.describe import render, to_dot, to_mermaid
from streams_app.jobs.process import JOBS
from streams_app.ops.job import load_job

ROOT = Path(__file__).resolve().parents[1]
# Pinned: the versions this test was written against.
MERMAID_PACKAGES = ("mermaid@11.17.2", "jsdom@29.1.1")
S = Serdes.string()


@pytest.fixture(scope="module")
def mermaid_dir() -> Path:
    """A directory with mermaid + jsdom installed (npm, once) and the parse script in it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed to run mermaid's parser (apt-get install nodejs npm)")
    where = Path(os.environ.get("STREAMS_MERMAID_DIR", ROOT / ".cache" / "mermaid"))
    if not (where / "node_modules" / "mermaid").is_dir() or \
            not (where / "node_modules" / "jsdom").is_dir():
        where.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(where),
                        *MERMAID_PACKAGES], check=True, capture_output=True, timeout=600)
    shutil.copy(ROOT / "tests" / "tools" / "mermaid_parse.mjs", where / "mermaid_parse.mjs")
    return where


def mermaid_parse(where: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(where / "mermaid_parse.mjs")], input=text, text=True,
                          capture_output=True, timeout=120)


def tricky_topology() -> Topology:
    """Repartition, a join with a global table, a window-free count, and names that need
    quoting in both languages."""
    b = StreamsBuilder()
    regions = b.global_table("regions", key_serde=S, value_serde=S)
    rides = b.stream("rides", key_serde=S, value_serde=Serdes.json())
    (rides.map_values(lambda v: v, name='say "hi" #1 <b>')
     .join(regions, lambda k, v: k, lambda v, r: {**v, "region": r})
     .group_by(lambda k, v: v["region"], Grouped(name="by-region", key_serde=S))
     .count(Materialized.as_("per-region"))
     .to_stream().to("region-counts"))
    return b.build()


def test_help_on_stdout_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out, err = capsys.readouterr()
    assert "describe JOB" in out and "reset JOB" in out and "Exit codes" in out and not err
    for command in ("jobs", "describe", "topics", "reset", "job", "produce-rides"):
        assert main([command, "--help"]) == 0, command
        out, err = capsys.readouterr()
        assert out.startswith(f"usage: streams-app {command}"), (command, out)
        assert not err
    assert main(["no-such-command"]) == 2
    out, err = capsys.readouterr()
    assert not out and "unknown command 'no-such-command'" in err
    assert main([]) == 2
    assert main(["describe", "rides-vendor-count", "--format", "svg"]) == 2
    assert "invalid choice: 'svg'" in capsys.readouterr().err
    assert main(["reset", "rides-vendor-count", "--to-datetime", "last tuesday"]) == 2
    assert "not an ISO 8601 date-time" in capsys.readouterr().err


def test_jobs_lists_every_job_with_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[n, JOBS[n]] for n in sorted(JOBS)]
    assert all(len(line.split()) > 2 for line in lines), "a job has no description"


def test_unknown_job_fails_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "no-such-job"]) == 1
    out, err = capsys.readouterr()
    assert not out
    assert err.count("\n") == 1, err
    assert "unknown job 'no-such-job'" in err and "rides-vendor-count" in err
    assert main(["describe", "streams_app.no_such_module"]) == 1
    assert "cannot import job module" in capsys.readouterr().err


def test_unreachable_broker_fails_with_one_line() -> None:
    # A fresh interpreter: jobs read STREAMS_* when their module is first imported.
    env = {**os.environ, "STREAMS_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PYTHONPATH": str(ROOT)}
    for command in ("topics", "reset"):
        run = subprocess.run([sys.executable, "-m", "streams_app.cli", command,
                              "rides-vendor-count"], env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 1, run
        assert run.stdout == ""
        assert run.stderr.count("\n") == 1, run.stderr
        assert "STREAMS_BOOTSTRAP_SERVERS" in run.stderr


def test_text_is_kafka_topology_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "rides-vendor-count"]) == 0
    out = capsys.readouterr().out
    assert out == str(load_job("rides-vendor-count").topology.describe())
    assert out.startswith("Topologies:\n   Sub-topology: 0\n")
    assert "vendor-count (key-value, changelog: <application_id>-vendor-count-changelog)" in out


def test_mermaid_shape() -> None:
    text = to_mermaid(load_job("pulocation-count").topology)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '    subgraph sub0["Sub-topology 0"]' in lines
    assert '    subgraph sub1["Sub-topology 1"]' in lines
    assert '        s0[("Store: pulocation-count")]' in lines
    assert '    t1(["rides-by-pulocation-repartition (repartition)"])' in lines
    # The repartition topic links the two sub-topologies with thick edges.
    assert "    n4 ==> t1" in lines and "    t1 ==> n5" in lines
    assert "    n6 -.- s0" in lines


@pytest.mark.parametrize("job", sorted(JOBS))
def test_mermaid_of_every_job_parses(mermaid_dir: Path, job: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", job, "--format", "mermaid"]) == 0
    result = mermaid_parse(mermaid_dir, capsys.readouterr().out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "flowchart-v2"


def test_mermaid_with_quotes_global_store_and_join_parses(mermaid_dir: Path) -> None:
    text = to_mermaid(tricky_topology())
    assert 'say #quot;hi#quot; #35;1 <b>' in text
    assert "(global store)" in text
    result = mermaid_parse(mermaid_dir, text)
    assert result.returncode == 0, result.stderr


def test_mermaid_parser_rejects_a_broken_diagram(mermaid_dir: Path) -> None:
    # The check is real: an unclosed label fails to parse.
    broken = to_mermaid(tricky_topology()) + '    x["oops\n'
    assert mermaid_parse(mermaid_dir, broken).returncode == 1


@pytest.mark.parametrize("topology", [load_job(j).topology for j in sorted(JOBS)]
                         + [tricky_topology()], ids=[*sorted(JOBS), "tricky"])
def test_dot_parses_with_pydot_and_graphviz(topology: Topology, tmp_path: Path) -> None:
    text = to_dot(topology)
    (graph,) = pydot.graph_from_dot_data(text)
    clusters = [g.get_name() for g in graph.get_subgraphs()]
    assert clusters == [f"cluster_sub{s.id}" for s in topology.subtopologies()]
    nodes = {n.get_name() for g in graph.get_subgraphs() for n in g.get_nodes()}
    assert len([n for n in nodes if n.startswith("n")]) == len(topology.nodes)
    assert len([n for n in nodes if n.startswith("s")]) == len(topology.stores)
    dot = shutil.which("dot")
    assert dot, "Graphviz's dot is needed (apt-get install graphviz)"
    out = tmp_path / "topology.svg"
    run = subprocess.run([dot, "-Tsvg", "-o", str(out)], input=text, text=True,
                         capture_output=True, timeout=60)
    assert run.returncode == 0 and not run.stderr, run.stderr
    assert "<svg" in out.read_text()


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format 'svg'"):
        render(Topology(), "svg")
