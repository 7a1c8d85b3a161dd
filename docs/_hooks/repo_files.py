"""MkDocs hook: pages generated from the repository's own files.

- ``<!-- settings-table -->`` becomes the table of ``STREAMS_*`` settings, from
  :func:`streams_app.settings.describe_settings` (the code is the source of truth);
- the benchmark charts (``bench/results/chart.png`` and ``scale.png``, written by ``make
  bench``) are served next to the included BENCHMARKS.md when they exist, and replaced by a
  note otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
CHARTS = {"chart": "bench/results/chart.png", "scale-out": "bench/results/scale.png"}


def _settings_table() -> str:
    from streams_app.settings import describe_settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for env, _field, default, doc in describe_settings():
        shown = "" if default is None else f"`{default}`"
        rows.append(f"| `{env}` | {shown} | {doc.replace('|', '&#124;')} |")
    return "\n".join(rows)


def on_files(files: Files, config: Any) -> Files:
    for chart in CHARTS.values():
        if (ROOT / chart).is_file():
            files.append(File(chart, str(ROOT), config["site_dir"],
                              config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    markdown = markdown.replace("<!-- settings-table -->", _settings_table())
    if page.file.src_uri == "benchmarks.md":
        text = (ROOT / "BENCHMARKS.md").read_text()
        for alt, chart in CHARTS.items():
            if not (ROOT / chart).is_file():
                text = text.replace(f"![{alt}]({chart})", "*(The chart is written by `make "
                                    "bench`; none in this checkout.)*")
        markdown = markdown.replace("<!-- BENCHMARKS.md -->", text)
    return markdown
