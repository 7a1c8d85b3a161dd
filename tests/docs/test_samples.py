"""Every Python sample in the docs runs (or, when it needs a broker, compiles)."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from tests.docs.samples import ROOT, Sample, blocks, pages, python_samples

PAGES_WITH_CODE = [p for p in pages() if python_samples(p)]


def _run(samples: list[Sample]) -> None:
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for sample in samples:
        code = compile(sample.code, sample.where, "exec")
        if sample.compile_only:
            continue
        try:
            exec(code, namespace)  # noqa: S102 - running the docs' own samples is the test
        except Exception as exc:
            lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                     if f.filename == sample.where]
            at = f"{sample.where} (+{lines[-1]} lines)" if lines else sample.where
            raise AssertionError(f"sample at {at} failed: {exc!r}") from exc


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_samples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # samples that write files write them here
    _run(python_samples(page))


def test_most_pages_have_running_samples() -> None:
    running = [s for p in pages() for s in python_samples(p) if not s.compile_only]
    compiled = [s for p in pages() for s in python_samples(p) if s.compile_only]
    assert len(running) >= 20 and len(running) > 2 * len(compiled), (len(running), len(compiled))


def test_every_fence_has_a_language() -> None:
    # an unlabelled block would escape both the highlighter and this suite
    bare = [s.where for p in pages() for s in blocks(p) if not s.lang]
    assert not bare, f"code blocks without a language: {bare}"


def test_a_failing_sample_fails() -> None:
    page = ROOT / "docs" / "x.md"
    samples = [Sample(page, 1, "python", "x = 1\n"), Sample(page, 5, "python", "assert x == 2\n")]
    with pytest.raises(AssertionError, match="docs/x.md:5"):
        _run(samples)


def test_compile_only_samples_still_compile() -> None:
    broken = Sample(ROOT / "docs" / "x.md", 1, "python", "# needs a broker\ndef (:\n")
    with pytest.raises(SyntaxError):
        _run([broken])
