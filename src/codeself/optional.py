"""Lazy imports of the optional extras (`training`, `distributed`), and the one check that
they are installed (`require_packages`, used by the hf backend and the TRL trainer).

The core is standard-library only; heavy packages are imported at the point of use so that
`import codeself` and every default pipeline stage work without them, and a missing package
gives one actionable line instead of an ImportError traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from types import ModuleType

INSTALL_HINT = "pip install 'codeself[training]'"


def require(module: str, *, purpose: str, extra_packages: str = "", extra: str = "training") -> ModuleType:
    """Import `module` or raise ValueError saying what to install (scripts print it as one line)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        also = f" {extra_packages}" if extra_packages else ""
        hint = INSTALL_HINT if extra == "training" else f"pip install 'codeself[{extra}]'"
        raise ValueError(
            f"{purpose} needs the '{module}' package, which is not installed; "
            f"install the {extra} extra: {hint}{also}"
        ) from None


def require_packages(names: Sequence[str], *, purpose: str, hint: str, separator: str = ", ") -> None:
    """Raise ValueError "<purpose> needs <missing names>: <hint>" unless every package in
    `names` is importable; checks without importing (torch takes seconds to import)."""
    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        raise ValueError(f"{purpose} needs {separator.join(missing)}: {hint}")
