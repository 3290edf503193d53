"""Expected values kept on disk per machine, so a task's tests program runs once, not once per run.

Why: for C++, Java, JavaScript and Rust the expected values come from a program of their own
(program.measure_expected), which costs about as much as judging one sample: at one sample per
task that doubles the work of every evaluation. The program is trusted code built from the task
alone, so its answers depend only on what it is; the cache key is a hash of that program (files,
commands, environment) and the toolchain's version. Only complete answers are kept (every value
computed, or the tests' program did not compile: a dataset defect), never a run the machine
disturbed (a timeout, a sandbox error).

The directory holds hidden tests' expected values, so it is never one the sandbox shows (not under
the language cache, which the view binds read-only), and it is private to its owner (0700).
`CODESELF_EXPECTED_CACHE` moves it; "off" disables it.
"""

from __future__ import annotations

import json
import os
import tempfile

from codeself.execution.languages.toolchains import cache_dir, toolchain

FORMAT = 1


def directory() -> str | None:
    """The cache directory (created 0700), or None when disabled or unusable."""
    configured = os.environ.get("CODESELF_EXPECTED_CACHE", "")
    if configured == "off":
        return None
    root = os.path.realpath(configured or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "codeself", "expected-values"))
    try:
        shown = cache_dir()
    except ValueError:
        shown = ""
    if shown and (root == shown or root.startswith(shown + os.sep)):  # the sandbox shows that one
        return None
    try:
        os.makedirs(root, mode=0o700, exist_ok=True)
        os.chmod(root, 0o700)
    except OSError:
        return None
    return root


def key(language: str, native) -> str:
    """What the tests program's answers depend on: the program itself and the toolchain."""
    return native.digest(FORMAT, language, getattr(toolchain(language), "version", ""))


def load(language: str, native) -> list[str] | None:
    """The cached answer frames of the tests program, or None."""
    root = directory()
    if root is None:
        return None
    try:
        with open(os.path.join(root, key(language, native) + ".json"), encoding="ascii") as handle:
            answers = json.load(handle)
    except (OSError, ValueError):
        return None
    return answers if isinstance(answers, list) and all(isinstance(a, str) for a in answers) else None


def has(language: str, native) -> bool:
    """Whether answers of the tests program are kept (without reading them: load() does)."""
    root = directory()
    return root is not None and os.path.exists(os.path.join(root, key(language, native) + ".json"))


def save(language: str, native, answers: list[str]) -> None:
    """Keep `answers` (atomically); a cache that cannot be written is skipped."""
    root = directory()
    if root is None:
        return
    try:
        fd, temporary = tempfile.mkstemp(dir=root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                json.dump(answers, handle)
            os.replace(temporary, os.path.join(root, key(language, native) + ".json"))
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass
