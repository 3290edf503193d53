"""Run untrusted candidate programs against a task's tests, with verdicts made outside them.

Public API: `Executor` (run / run_many / call_function), `ExecutionConfig`, `CallOutcome`,
`assemble_program`, and the `ExecutionResult` / `TestOutcome` records. See docs/safety.md
for what the sandbox does and does not protect, docs/schemas.md, "Execution results" for the records.

Names are imported lazily (PEP 562): the sandbox worker imports `codeself.execution.child`
through this package and must stay small, because every program is a fork of it.
"""

from typing import Any

_EXPORTS = {
    "CallOutcome": "codeself.execution.engine",
    "ExecutionConfig": "codeself.execution.engine",
    "Executor": "codeself.execution.engine",
    "assemble_program": "codeself.execution.engine",
    "ExecutionResult": "codeself.execution.result",
    "TestOutcome": "codeself.execution.result",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'codeself.execution' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
