"""One table of several models (rows) on several evaluation sets (columns), for an experiment's README.

A paired comparison (compare.py) answers "did B beat A, and how surely"; this answers "what did
each model score, with what uncertainty, in what answer form", so that a row can be read without
the others. Each cell holds, for one rollout file:
- the first-sample pass rate (sample_index 0 of each task) with a Wilson 95% interval over tasks;
- the mean pass rate over samples (per-task pass fraction, averaged over tasks) with a seeded
  bootstrap 95% interval over tasks;
- the answer form: mean completion tokens, and the share of samples that ended at the token
  budget (`finish_reason` "length"), at a stop string ("stop") or at end-of-sequence ("eos").
No p-value appears here: tests live beside their effects in the comparison reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeself.jsonl import iter_jsonl_lines
from codeself.reporting import compare, stats

FINISH_REASONS = ("length", "stop", "eos")


@dataclass(frozen=True)
class Cell:
    """The numbers of one rollout file (see the module docstring)."""

    path: str
    tasks: int
    samples: int
    first_sample: dict[str, Any]  # {"rate", "passed", "ci": [lo, hi], "ci_method"}
    mean_over_samples: dict[str, Any]  # {"rate", "ci": [lo, hi], "ci_method"}
    mean_completion_tokens: float | None  # None when no record has metadata.completion_tokens
    finish_reasons: dict[str, int]  # counts over samples; "other" for none recorded

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def read_cell(path: str | Path, *, seed: int = 0, resamples: int = 2000) -> Cell:
    """Read one rollout file; ValueError (with file and line) on a malformed record.

    Outcomes come from the comparison's own loader (same checks and messages); the answer-form
    fields, which that loader does not keep, from a second pass over the records."""
    path = Path(path)
    samples = compare.load_task_samples(path)
    ordered = [samples[task] for task in sorted(samples)]
    first = [task.outcome("first") for task in ordered]
    fractions = [sum(task.passes) / len(task.passes) for task in ordered]
    tokens: list[int] = []
    finish: Counter = Counter()
    for _, record in iter_jsonl_lines(path):
        metadata = record.get("metadata") or {}
        if isinstance(metadata.get("completion_tokens"), int):
            tokens.append(metadata["completion_tokens"])
        reason = metadata.get("finish_reason")
        finish[reason if reason in FINISH_REASONS else "other"] += 1
    low, high = stats.wilson_interval(sum(first), len(first))
    mean_low, mean_high = stats.bootstrap_mean_ci(fractions, seed=seed, n_resamples=resamples)
    return Cell(
        path=str(path), tasks=len(ordered), samples=sum(len(task.passes) for task in ordered),
        first_sample={"rate": sum(first) / len(first), "passed": sum(first), "ci": [low, high], "ci_method": "wilson"},
        mean_over_samples={"rate": sum(fractions) / len(fractions), "ci": [mean_low, mean_high],
                           "ci_method": f"bootstrap over tasks ({resamples} resamples, seed {seed})"},
        mean_completion_tokens=round(sum(tokens) / len(tokens), 1) if tokens else None,
        finish_reasons={reason: finish[reason] for reason in (*FINISH_REASONS, "other") if finish[reason]},
    )


def build_table(cells: Iterable[tuple[str, str, str]], *, seed: int = 0, resamples: int = 2000) -> dict[str, Any]:
    """(row, column, path) triples -> {"rows", "columns", "cells": {row: {column: Cell json}}}, in the given order."""
    rows: list[str] = []
    columns: list[str] = []
    table: dict[str, dict[str, Any]] = {}
    for row, column, path in cells:
        if column in table.get(row, {}):
            raise ValueError(f"{row}:{column} is given twice")
        rows += [row] if row not in rows else []
        columns += [column] if column not in columns else []
        table.setdefault(row, {})[column] = read_cell(path, seed=seed, resamples=resamples).to_json()
    return {"rows": rows, "columns": columns, "cells": table}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def render_markdown(table: dict[str, Any]) -> str:
    """Two tables (pass rates; answer form), rows by columns, a dash where a cell is missing."""
    header = "| model | " + " | ".join(table["columns"]) + " |\n|---|" + "---:|" * len(table["columns"]) + "\n"
    rates, forms = [], []
    for row in table["rows"]:
        rate_cells, form_cells = [], []
        for column in table["columns"]:
            cell = table["cells"][row].get(column)
            if cell is None:
                rate_cells.append("-")
                form_cells.append("-")
                continue
            first, mean = cell["first_sample"], cell["mean_over_samples"]
            rate_cells.append(f"{_pct(first['rate'])} [{_pct(first['ci'][0])}, {_pct(first['ci'][1])}] · "
                              f"{_pct(mean['rate'])} [{_pct(mean['ci'][0])}, {_pct(mean['ci'][1])}] "
                              f"(n={cell['tasks']})")
            cut = cell["finish_reasons"].get("length", 0) / cell["samples"]
            tokens = "?" if cell["mean_completion_tokens"] is None else f"{cell['mean_completion_tokens']:g}"
            form_cells.append(f"{tokens} tok · {_pct(cut)}% cut")
        rates.append(f"| {row} | " + " | ".join(rate_cells) + " |")
        forms.append(f"| {row} | " + " | ".join(form_cells) + " |")
    return ("Pass rate, % — first sample [Wilson 95% CI] · mean over samples [bootstrap 95% CI] (n = tasks). "
            "No p-values here: each test is in the paired comparison of the two rows it compares.\n\n"
            + header + "\n".join(rates) + "\n\n"
            "Answer form — mean completion tokens · share of samples cut at the token budget.\n\n"
            + header + "\n".join(forms) + "\n")
