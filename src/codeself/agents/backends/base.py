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
    """Every backend option the command line can set; each backend reads what it needs."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    completions: str | None = None
    mock_correct_fraction: float | None = None
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 512
    timeout_s: float = 120.0
    max_retries: int = 5
    concurrency: int = 4


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
