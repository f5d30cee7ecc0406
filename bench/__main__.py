"""`python -m bench`: every benchmark, one line per goal (see bench/run_all.py)."""

from __future__ import annotations

import sys

from bench.run_all import main

sys.exit(main())
