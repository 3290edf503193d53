"""Batched sampling for causal LMs with a seed per row, so a sample never depends on its batch.

`transformers`' `generate` draws every row's tokens from one global RNG, so the same (task,
sample) would come out differently in a batch of 1 and in a batch of 32. `sample_rows` runs its
own decoding loop instead: one forward pass over the left-padded batch per token (KV cache),
then each row picks its token with its *own* `torch.Generator`, seeded by the caller from
(run seed, task id, sample index). Row i's draw sequence is therefore fixed by its seed alone.
(Its logits can still differ from a batch-of-1 run by float rounding in the batched matmuls,
which in practice almost never changes a draw.)

Per step, for each active row: temperature 0 -> argmax; otherwise softmax(logits / T), keep the
smallest set of most likely tokens whose mass reaches top_p, then invert the row's cumulative
distribution at one uniform number drawn from the row's generator. Rows stop at an EOS token
(not included in the text), at the first stop string (the text is cut before it), or after
`max_new_tokens`; finished rows leave the batch (their KV cache rows are dropped), so a long
straggler does not make the rest of the batch pay for it.

Example of the bookkeeping with 3 rows where row 1 finishes at step 0:
    active = [0, 1, 2] -> keep positions [0, 2] -> cache rows [0, 2] kept -> active = [0, 2].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowOutput:
    text: str  # decoded completion, cut at the first stop string
    finish_reason: str  # "eos" | "stop" | "length"
    completion_tokens: int  # tokens generated (EOS not counted)


def eos_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = set()
    for value in (getattr(model.generation_config, "eos_token_id", None), tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value is not None:
            ids.update(int(item) for item in value)
    return ids


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """`text` up to its earliest stop string, and whether one was found.

    >>> cut_at_stop("a\\nprint(1)\\nassert x", ["\\nassert ", "\\nprint("])
    ('a', True)
    """
    cuts = [position for position in (text.find(item) for item in stop) if position >= 0]
    return (text[:min(cuts)], True) if cuts else (text, False)


def pick_tokens(logits: Any, generators: Sequence[Any], temperature: float, top_p: float) -> list[int]:
    """One token per row of `logits` [rows, vocab]; row i's randomness comes from generators[i] only."""
    import torch  # noqa: PLC0415 - optional dependency

    if temperature == 0:
        return logits.argmax(dim=-1).tolist()
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    sorted_probs, order = probs.sort(dim=-1, descending=True)
    if top_p < 1.0:
        # drop tokens once the mass *before* them already reaches top_p (the top token always stays)
        sorted_probs = sorted_probs.masked_fill(sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p, 0.0)
    cumulative = sorted_probs.cumsum(dim=-1)
    draws = torch.cat([torch.rand(1, generator=generator) for generator in generators])
    targets = (draws * cumulative[:, -1]).unsqueeze(-1)
    positions = torch.searchsorted(cumulative, targets, right=True).clamp(max=cumulative.shape[-1] - 1)
    return order.gather(-1, positions).squeeze(-1).tolist()


def sample_rows(model: Any, tokenizer: Any, prompts: Sequence[str], seeds: Sequence[int], *,
                temperature: float, top_p: float, max_new_tokens: int,
                stop: Sequence[str] = ()) -> list[RowOutput]:
    """Complete each prompt once; row i samples with `torch.Generator().manual_seed(seeds[i])`."""
    if not prompts:
        return []
    prompt_ids = [tokenizer(prompt)["input_ids"] for prompt in prompts]

    def stopped(tokens: list[int]) -> bool:
        return cut_at_stop(tokenizer.decode(tokens, skip_special_tokens=True), stop)[1]

    rows = sample_token_rows(model, prompt_ids, seeds, pad_id=tokenizer.pad_token_id or 0,
                             eos=eos_token_ids(model, tokenizer), temperature=temperature, top_p=top_p,
                             max_new_tokens=max_new_tokens, stopped=stopped if stop else None)
    return [RowOutput(cut_at_stop(tokenizer.decode(tokens, skip_special_tokens=True), stop)[0], finish,
                      len(tokens)) for tokens, finish in rows]


def sample_token_rows(model: Any, prompt_ids: Sequence[Sequence[int]], seeds: Sequence[int], *, pad_id: int,
                      eos: set[int], temperature: float, top_p: float, max_new_tokens: int,
                      stopped: Any = None) -> list[tuple[list[int], str]]:
    """Token-level core of `sample_rows`: (generated ids without EOS, finish reason) per prompt."""
    import torch  # noqa: PLC0415 - optional dependency
    from transformers import DynamicCache  # noqa: PLC0415

    # Samples of one task share their prompt: prefill each distinct prompt once, then copy its
    # cache rows (prefill dominates on CPU: ~250 prompt tokens against ~150 generated).
    keys = [tuple(ids) for ids in prompt_ids]
    distinct = list(dict.fromkeys(keys))
    copies = torch.tensor([distinct.index(key) for key in keys])
    width = max(len(ids) for ids in distinct)
    input_ids = torch.tensor([[pad_id] * (width - len(ids)) + list(ids) for ids in distinct])
    mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in distinct])
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    tokens: list[list[int]] = [[] for _ in keys]
    finish = ["length"] * len(keys)
    active = list(range(len(keys)))
    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions,
                       past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
        if len(distinct) < len(keys):
            cache.batch_select_indices(copies)
        logits, mask, next_position = logits[copies], mask[copies], positions[copies, -1:] + 1
        for _ in range(max_new_tokens):
            picked = pick_tokens(logits, [generators[row] for row in active], temperature, top_p)
            keep = []
            for slot, (row, token) in enumerate(zip(active, picked)):
                if token in eos:
                    finish[row] = "eos"
                    continue
                tokens[row].append(token)
                if stopped is not None and stopped(tokens[row]):
                    finish[row] = "stop"
                    continue
                if len(tokens[row]) < max_new_tokens:
                    keep.append(slot)
            if not keep:
                break
            if len(keep) < len(active):
                index = torch.tensor(keep)
                cache.batch_select_indices(index)
                mask, next_position = mask[index], next_position[index]
            active = [active[slot] for slot in keep]
            step_input = torch.tensor([[picked[slot]] for slot in keep])
            mask = torch.cat([mask, torch.ones((len(keep), 1), dtype=mask.dtype)], dim=-1)
            logits = model(input_ids=step_input, attention_mask=mask, position_ids=next_position,
                           past_key_values=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
            next_position = next_position + 1
    return list(zip(tokens, finish))
