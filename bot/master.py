"""The gunicorn master of a replica with one request worker: gunicorn and nothing of the app.

``samverkan serve`` checks the settings, then, with one request worker
(``SAMVERKAN_WEB_CONCURRENCY=1`` or Socket Mode), replaces itself (``exec``, same pid) with
``python -m bot.master PLAN``: a master that imports gunicorn and our server module only, not
the settings (pydantic) nor the app. It forks the request worker and the due-work runner, each
of which reads the settings and imports the app itself. With several workers the master
imports the app before forking them instead, so that they share it (:func:`bot.server.serve`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from bot import logs
    from bot.server import Plan, Server

    args = list(sys.argv[1:] if argv is None else argv)
    plan = Plan.from_json(args[0])
    logs.install()  # whatever fails below, no log line repeats data
    logs.configure(plan.log_level)
    Server(plan).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
