"""Language adapters for C++, Java, JavaScript and Rust (issue 18); see docs/languages.md.

`split_assert` splits one MultiPL-E assert into the candidate call and the expected value;
`assert_statements` lists the asserts of a MultiPL-E `tests` field. Names are imported lazily
(PEP 562): the sandbox worker imports `languages.native` through this package, and every
program is a fork of the worker, so this package must not import anything heavy up front.
"""

from typing import Any

_EXPORTS = {
    "EQUALITY_RULES": "codeself.execution.languages.asserts",
    "LANGUAGES": "codeself.execution.languages.asserts",
    "SplitAssert": "codeself.execution.languages.asserts",
    "assert_statements": "codeself.execution.languages.asserts",
    "split_assert": "codeself.execution.languages.asserts",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'codeself.execution.languages' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
