"""``python -m trafficgate_local.standin --port 5000 [--host 127.0.0.1] [--region REGION]``."""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
