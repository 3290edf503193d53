"""Make `import codeself` work from a fresh clone without installing.

Each script does `import _bootstrap  # noqa: F401` first. Python puts the script's own
directory on sys.path, so this module is found; it adds `<repo>/src` only when `codeself`
is not already importable (e.g. after `pip install -e .`, the installed copy wins).
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("codeself") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
