"""Agreement between a graded signal and a binary verdict: AUROC and Cohen's kappa.

Used to calibrate an LLM judge against test verdicts (scripts/calibrate_judge.py). Kept apart
from `codeself.reporting.stats` (tests and intervals for pass rates), which is already at the
size limit of one module. Both functions take plain sequences and return None, not a number,
when the statistic is undefined for the data (one class only; chance agreement of 1), so a
report never prints a made-up 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve of `scores` for predicting `labels`: the probability that a
    random positive scores above a random negative, ties counting one half (Mann-Whitney U
    divided by positives x negatives). None when there are no positives or no negatives.

    >>> auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False])  # pairs: 1 + 1 + 0.5 + 1 = 3.5 of 4
    0.875
    """
    if len(scores) != len(labels):
        raise ValueError(f"auroc: {len(scores)} scores but {len(labels)} labels")
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum = 0.0  # sum of the positives' ranks (1-based, ties share their average rank)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1
        rank_sum += average_rank * sum(1 for i in order[start:end + 1] if labels[i])
        start = end + 1
    u = rank_sum - positives * (positives + 1) / 2
    return u / (positives * negatives)


def cohen_kappa(first: Sequence[object], second: Sequence[object]) -> float | None:
    """Cohen's kappa of two raters' labels over the same items: (p_o - p_e) / (1 - p_e), with
    p_o the observed agreement and p_e the agreement expected by chance from each rater's own
    label frequencies. None when there are no items or p_e = 1 (both raters gave one and the
    same label to everything: agreement is certain, kappa undefined).

    >>> cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0])  # p_o = 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2
    0.5
    """
    if len(first) != len(second):
        raise ValueError(f"cohen_kappa: {len(first)} labels against {len(second)}")
    n = len(first)
    if n == 0:
        return None
    observed = sum(1 for a, b in zip(first, second) if a == b) / n
    categories = set(first) | set(second)
    expected = sum((sum(1 for a in first if a == c) / n) * (sum(1 for b in second if b == c) / n)
                   for c in categories)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1 - expected)
