"""Fenced Python blocks of the docs (docs/**/*.md), in page order.

A block whose first line is the comment ``# needs a broker ...`` is compiled only (it starts
a worker); every other block runs. The blocks of one page run in one namespace, in order, so
a page can build on its earlier samples, like a reader typing them in.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
COMPILE_ONLY = "# needs a broker"

# an opening fence (possibly indented, inside an admonition or a list) with its info string
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$")


@dataclass(frozen=True)
class Sample:
    """One fenced block: where it is, its language and its code."""

    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str

    @property
    def compile_only(self) -> bool:
        return self.code.lstrip().startswith(COMPILE_ONLY)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Sample]:
    """Every fenced block of ``page``."""
    lines = page.read_text().splitlines()
    out: list[Sample] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        info = m.group("info").strip()
        lang = info.split()[0].lstrip(".{").rstrip("}") if info else ""
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence)
                                       and lines[j].strip().strip(fence[0]) == ""):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"{page}:{i + 1}: unclosed code fence")
        out.append(Sample(page, i + 1, lang, textwrap.dedent("\n".join(body)) + "\n"))
        i = j + 1
    return out


def pages() -> list[Path]:
    """Every Markdown page of the docs."""
    return sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)


def python_samples(page: Path) -> list[Sample]:
    """The page's Python blocks."""
    return [s for s in blocks(page) if s.lang in {"python", "py"}]
