"""A tool-calling chat template for ChatML models whose own template renders no tools (SmolLM2).

TRL's environment_factory route (`trl_env`) refuses a tokenizer whose chat template drops tool
calls or tool messages (`supports_tool_calling`), and parses tool calls with a response template
it knows only for a list of model families; SmolLM2-135M-Instruct's template is plain ChatML with
neither. `enable_tool_calling(tokenizer)` replaces it with `TOOL_CHAT_TEMPLATE` and sets
`TOOL_RESPONSE_TEMPLATE` (transformers >= 5.13 response parsing):

- without tools it renders every chat exactly as SmolLM2's own template (same default system
  message, same turn markers), so prompts are unchanged;
- with tools, the system message lists them as JSON inside <tools></tools> and asks for calls as
  `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` (the ChatML tool convention);
- an assistant turn's calls are rendered the same way, and a tool's result is a user turn
  `<tool_response>...</tool_response>`, the slot where `run_agentic.py` puts its feedback;
- it is prefix-preserving (adding a message never re-renders earlier ones), which TRL's
  multi-turn loop needs.

Standard library only: the template and the parser description are data; the tokenizer is the
caller's.
"""

from __future__ import annotations

from typing import Any

SMOLLM_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"

TOOL_CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] %}"
    "{%- set rest = messages[1:] %}{%- else %}{%- set system = '" + SMOLLM_SYSTEM + "' %}"
    "{%- set rest = messages %}{%- endif %}"
    "{{- '<|im_start|>system\\n' + system }}"
    "{%- if tools %}{{- '\\n\\nYou may call one or more functions to assist with the user query.\\nYou are "
    "provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}"
    "{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\\n</tool_call>' }}{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- for message in rest %}"
    "{%- if message.role == 'assistant' and message.tool_calls %}{{- '<|im_start|>assistant' }}"
    "{%- if message.content %}{{- '\\n' + message.content }}{%- endif %}"
    "{%- for call in message.tool_calls %}{%- set call = call.function if call.function is defined else call %}"
    "{{- '\\n<tool_call>\\n{\"name\": \"' + call.name + '\", \"arguments\": ' }}{{- call.arguments | tojson }}"
    "{{- '}\\n</tool_call>' }}{%- endfor %}{{- '<|im_end|>\\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{{- '<|im_start|>user\\n<tool_response>\\n' + message.content + '\\n</tool_response><|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# transformers' response-template format: free text up to <|im_end|>, any number of JSON calls
TOOL_RESPONSE_TEMPLATE = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|im_start|>assistant\n",
    "fields": {
        "tool_calls": {"open": "<tool_call>", "close_pattern": r"</tool_call>\s*", "repeats": True,
                       "content": "json", "transform": {"type": "function", "function": "{content}"}},
        "content": {"close_pattern": r"<\|im_end\|>\s*", "content": "text"},
    },
}


def enable_tool_calling(tokenizer: Any) -> Any:
    """Give a ChatML tokenizer (SmolLM2) the tool-calling template and response parser; returns it."""
    vocabulary = tokenizer.get_vocab()
    if "<|im_start|>" not in vocabulary or "<|im_end|>" not in vocabulary:
        raise ValueError("enable_tool_calling is for ChatML models (<|im_start|> / <|im_end|> tokens, e.g. SmolLM2); "
                         "this tokenizer has none: use a model whose own template supports tools")
    tokenizer.chat_template = TOOL_CHAT_TEMPLATE
    tokenizer.response_template = TOOL_RESPONSE_TEMPLATE
    return tokenizer
