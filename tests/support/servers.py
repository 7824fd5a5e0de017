"""Test servers in a background thread that stop promptly.

``serve_forever`` looks for a shutdown request every ``poll_interval`` seconds (0.5 by
default), so every test that stopped a server waited up to half a second per server.
"""

from __future__ import annotations

import socketserver
import threading

POLL_INTERVAL = 0.05


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread; ``server.shutdown()`` then returns
    within ~``POLL_INTERVAL``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
    )
    thread.start()
    return thread
