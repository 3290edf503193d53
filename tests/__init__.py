"""Makes `python3 -m unittest tests.test_x` work from the repository root.

Test modules begin with `import support` (tests/support.py: puts src/ on sys.path, shared
helpers). `discover -s tests` puts tests/ on sys.path itself; importing a module as
`tests.test_x` runs this package first, which does the same, so both ways find `support`.
"""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
