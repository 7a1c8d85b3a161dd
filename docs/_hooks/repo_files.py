"""MkDocs hook: pages generated from the repository's own files.

- ``<!-- settings-table -->`` becomes the table of ``STREAMS_*`` settings, from
  :func:`streams_app.settings.describe_settings` (the code is the source of truth);
- the benchmark chart (``bench/results/chart.png``, written by ``make bench``, not in git) is
  served next to the included BENCHMARKS.md when it exists, and replaced by a note otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
CHART = "bench/results/chart.png"


def _settings_table() -> str:
    from streams_app.settings import describe_settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for env, _field, default, doc in describe_settings():
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `{env}` | {shown} | {doc.replace('|', '&#124;')} |")
    return "\n".join(rows)


def on_files(files: Files, config: Any) -> Files:
    if (ROOT / CHART).is_file():
        files.append(File(CHART, str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    markdown = markdown.replace("<!-- settings-table -->", _settings_table())
    if page.file.src_uri == "benchmarks.md":
        text = (ROOT / "BENCHMARKS.md").read_text()
        if not (ROOT / CHART).is_file():
            text = text.replace(f"![chart]({CHART})",
                                "*(The chart is written by `make bench`; none in this checkout.)*")
        markdown = markdown.replace("<!-- BENCHMARKS.md -->", text)
    return markdown
