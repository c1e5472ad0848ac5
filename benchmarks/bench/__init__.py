"""The parts of `benchmarks/run.py`, one module each, and what they share.

Imported from `benchmarks/run.py` (its folder is first on `sys.path`). The suite comes from the
installed package, else from the checkout these files live in.
"""

import sys
from pathlib import Path

try:  # the installed package (pip install .) ...
    import conformance  # noqa: F401
except ImportError:  # ... or the checkout this folder lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
