"""Generation backends behind one interface (`Backend`), chosen by name with `--backend`.

| name     | what it does                                                      |
|----------|-------------------------------------------------------------------|
| `mock`   | fabricates completions from the reference solution (no model)     |
| `static` | replays a JSONL sample file (human-eval, EvalPlus, CodeSelf)       |
| `openai` | calls an OpenAI-compatible HTTP server                            |
| `hf`     | runs a local transformers model (optional extra, imported lazily) |
| `policy` | samples a smoke-policy checkpoint written by the smoke trainers   |
"""

from __future__ import annotations

from codeself.agents.backends.base import (Backend, BackendOptions, Generation, GenerationRequest,
                                           derive_seed)
from codeself.agents.backends.hf import HFBackend
from codeself.agents.backends.mock import MockBackend, MockConfig
from codeself.agents.backends.openai_http import BackendError, OpenAIBackend
from codeself.agents.backends.policy import PolicyBackend
from codeself.agents.backends.static import StaticBackend, foreign_task_ids

BACKENDS: dict[str, type[Backend]] = {
    "hf": HFBackend,
    "mock": MockBackend,
    "openai": OpenAIBackend,
    "policy": PolicyBackend,
    "static": StaticBackend,
}


def create_backend(name: str, options: BackendOptions | None = None) -> Backend:
    """Build a backend by name; an unknown name is a ValueError listing the valid ones."""
    try:
        backend_class = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; choose one of: {', '.join(sorted(BACKENDS))}") from None
    return backend_class.from_options(options or BackendOptions())


__all__ = ["BACKENDS", "Backend", "BackendError", "BackendOptions", "Generation", "GenerationRequest",
           "HFBackend", "MockBackend", "MockConfig", "OpenAIBackend", "PolicyBackend", "StaticBackend",
           "foreign_task_ids", "create_backend", "derive_seed"]
