"""``python -m sandbox.webapi --port 8765``: the stand-in on its own."""

import sys

from sandbox.webapi.server import main

sys.exit(main())
