"""``python -m streams_app.jobs.worker -A MODULE worker ...``: ``faust`` with the job checked first.

Faust's CLI resolves ``-A`` by trying an attribute lookup before the import, so a job whose
settings are invalid printed an unrelated ``AttributeError`` traceback before the
:class:`~streams_app.settings.ConfigError`. Importing the job module here first turns a bad
setting into one line on stderr (naming the setting) and exit code :data:`EXIT_CONFIG`,
before Faust prints anything.
"""

from __future__ import annotations

import importlib
import sys

from streams_app.settings import ConfigError

__all__ = ["EXIT_CONFIG", "main"]

#: sysexits' EX_CONFIG: the worker cannot start with these settings.
EXIT_CONFIG = 78


def _app_module(argv: list[str]) -> str | None:
    for flag in ("-A", "--app"):
        if flag in argv[:-1]:
            return argv[argv.index(flag) + 1].partition(":")[0]
    return None


def main(argv: list[str] | None = None) -> int:
    """Import the job, then hand ``argv`` to Faust's command line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    module = _app_module(argv)
    if module is not None:
        try:
            importlib.import_module(module)
        except ConfigError as exc:
            print(f"streams-app worker: configuration error: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    from faust.cli.faust import cli

    return int(cli.main(argv, prog_name="faust", standalone_mode=True) or 0)


if __name__ == "__main__":
    sys.exit(main())
