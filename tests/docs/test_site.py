"""The site builds in strict mode, shows what it promises, and strict mode does fail."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import streams_app
from tests.docs.samples import DOCS, ROOT

BUILD_TIMEOUT_S = 120


def build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` of ``project`` into ``site``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = build(ROOT, out)
    assert result.returncode == 0, result.stderr[-4000:]
    return out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text()


def test_config_is_strict() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True


def test_pages_are_built(site: Path) -> None:
    assert "TopologyTestDriver" in page(site, "quickstart")
    assert "STREAMS_SASL_MECHANISM" in page(site, "guides/settings")  # generated table
    assert "identical" in page(site, "conformance")                 # REPORT.md included
    assert "records/s" in page(site, "benchmarks")                  # BENCHMARKS.md included


def test_api_reference_documents_every_public_name(site: Path) -> None:
    html = "".join(p.read_text() for p in (site / "reference").rglob("index.html"))
    for name in streams_app.__all__:
        # mkdocstrings gives every rendered object an anchor with its path
        assert re.search(rf'id="streams_app\.{name}"', html), name
    assert 'id="streams_app.KStream.map_values"' in html
    assert ":class:" not in html  # Sphinx roles are rewritten to code


def test_every_public_name_has_a_docstring() -> None:
    undocumented = [name for name in streams_app.__all__
                    if not (getattr(streams_app, name).__doc__ or "").strip()]
    assert undocumented == []


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project)
    shutil.copytree(DOCS, project / "docs")
    for name in ("streams_app", "conformance", "bench", "BENCHMARKS.md"):
        (project / name).symlink_to(ROOT / name)
    quickstart = project / "docs" / "quickstart.md"
    quickstart.write_text(quickstart.read_text() + "\nSee [nowhere](no-such-page.md).\n")
    result = build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stderr


def test_benchmarks_page_without_a_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a clean clone has no bench/results/chart.png (git-ignored): a note replaces the image
    import importlib.util

    spec = importlib.util.spec_from_file_location("repo_files", DOCS / "_hooks" / "repo_files.py")
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    shutil.copy(ROOT / "BENCHMARKS.md", tmp_path)
    monkeypatch.setattr(hook, "ROOT", tmp_path)

    class Page:
        class file:  # noqa: N801 - shaped like mkdocs' Page.file
            src_uri = "benchmarks.md"

    text = hook.on_page_markdown("<!-- BENCHMARKS.md -->", Page(), {}, None)
    assert "records/s" in text
    assert "](bench/results/chart.png)" not in text and "make bench" in text
