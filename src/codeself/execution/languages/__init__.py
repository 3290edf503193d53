"""Language adapters for C++, Java, JavaScript and Rust (issue 18); see docs/languages.md.

`split_assert` splits one MultiPL-E assert into the candidate call and the expected value;
`assert_statements` lists the asserts of a MultiPL-E `tests` field.
"""

from codeself.execution.languages.asserts import (
    EQUALITY_RULES,
    LANGUAGES,
    SplitAssert,
    assert_statements,
    split_assert,
)

__all__ = ["EQUALITY_RULES", "LANGUAGES", "SplitAssert", "assert_statements", "split_assert"]
