"""Moved to `codeself.parsing` (rewards use it, and rewards must not import agents); this
module keeps the old import path working."""

from codeself.parsing import (
    END_OF_TURN_TOKENS, PARSE_MODES, PARSE_STATUSES, PYTHON_TAGS, USABLE_PARSE_STATUSES, ParseResult, compiles,
    defines_entry_point, find_fenced_blocks, parse_completion, strip_chat_noise,
)

__all__ = ["END_OF_TURN_TOKENS", "PARSE_MODES", "PARSE_STATUSES", "PYTHON_TAGS", "USABLE_PARSE_STATUSES",
           "ParseResult", "compiles", "defines_entry_point", "find_fenced_blocks", "parse_completion",
           "strip_chat_noise"]
