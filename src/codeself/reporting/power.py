"""McNemar power and sample size (Connor 1987), shared by the evaluation report's power plan
and the final comparison's minimum detectable effect.

Why a separate module: planning happens before any comparison (how many test tasks does a
study need?), and the normal-approximation formulas here are checked against the exact
binomial power of `stats`' McNemar test, which they slightly overstate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from codeself.reporting.stats import (
    _STANDARD_NORMAL,
    _log_binom_pmf,
    _log_sum_exp,
    _require_int,
    _require_probability,
    _z,
)




def _check_discordance(p10: float, p01: float) -> tuple[float, float]:
    _require_probability("p10", p10)
    _require_probability("p01", p01)
    psi, delta = p10 + p01, p01 - p10
    if psi > 1.0 + 1e-12:
        raise ValueError(f"p10 + p01 = {psi} exceeds 1")
    if psi - delta * delta <= 0.0:
        raise ValueError(f"degenerate discordance p10={p10}, p01={p01}: psi - delta^2 must be > 0")
    return psi, delta


def mcnemar_power(p10: float, p01: float, n: int, alpha: float = 0.05) -> float:
    """Approximate power of the two-sided McNemar test with n pairs (Connor 1987, Biometrics
    43:207-211), psi = p10 + p01 (discordance), delta = p01 - p10 (effect):

    power = Phi((|delta| sqrt(n) - z_{alpha/2} sqrt(psi)) / sqrt(psi - delta^2))
          + Phi((-|delta| sqrt(n) - z_{alpha/2} sqrt(psi)) / sqrt(psi - delta^2)).

    A normal approximation: the exact conditional test is a little more conservative, so the
    true power of mcnemar_exact is lower by a few points (p10 = 0.05, p01 = 0.45, n = 23:
    0.819 here, 0.777 by mcnemar_exact_power; p10 = 0.08, p01 = 0.12, n = 974: 0.798 vs 0.781).
    """
    _require_int("n", n, 1)
    _require_probability("alpha", alpha, open_interval=True)
    psi, delta = _check_discordance(p10, p01)
    z_alpha, spread = _z(alpha / 2.0), math.sqrt(psi - delta * delta)
    shift = abs(delta) * math.sqrt(n)
    return (_STANDARD_NORMAL.cdf((shift - z_alpha * math.sqrt(psi)) / spread)
            + _STANDARD_NORMAL.cdf((-shift - z_alpha * math.sqrt(psi)) / spread))


EXACT_POWER_MAX_N = 5000


def _mcnemar_critical(m: int, alpha: float) -> int:
    """Largest k with 2 P(X <= k) <= alpha for X ~ Bin(m, 1/2); -1 if even k = 0 fails."""
    cumulative, k = 0.0, -1
    while k + 1 < m:
        cumulative += math.exp(_log_binom_pmf(k + 1, m, 0.5))
        if 2.0 * cumulative > alpha * (1.0 + 1e-12):
            break
        k += 1
    return k


def mcnemar_exact_power(p10: float, p01: float, n: int, alpha: float = 0.05) -> float:
    """Exact (unconditional) power of mcnemar_exact with n pairs, for checking Connor's
    approximation: with M ~ Bin(n, psi) discordant pairs and Y ~ Bin(M, p01/psi) of them
    favouring the candidate, power = sum_m P(M = m) [P(Y <= k_m) + P(Y >= m - k_m)], where
    k_m is the exact test's critical value (largest k with 2 P(X <= k) <= alpha, X ~ Bin(m, 1/2)).
    m outside n psi +/- 12 sd is skipped (mass < 1e-30). n <= EXACT_POWER_MAX_N.
    """
    _require_int("n", n, 1)
    if n > EXACT_POWER_MAX_N:
        raise ValueError(f"exact power is limited to n <= {EXACT_POWER_MAX_N}; use mcnemar_power")
    _require_probability("alpha", alpha, open_interval=True)
    _require_probability("p10", p10)
    _require_probability("p01", p01)
    psi = p10 + p01
    if psi == 0.0:
        return 0.0
    share = min(1.0, p01 / psi)
    spread = 12.0 * math.sqrt(n * psi * (1.0 - min(psi, 1.0))) + 1.0
    low, high = max(0, math.floor(n * psi - spread)), min(n, math.ceil(n * psi + spread))
    terms = []
    for m in range(low, high + 1):
        k = _mcnemar_critical(m, alpha)
        if k < 0:
            continue
        lower = [_log_binom_pmf(y, m, share) for y in range(k + 1)]
        upper = [_log_binom_pmf(y, m, share) for y in range(m - k, m + 1)]
        reject = math.exp(_log_sum_exp(lower)) + math.exp(_log_sum_exp(upper))
        terms.append(math.exp(_log_binom_pmf(m, n, min(psi, 1.0))) * reject)
    return min(1.0, math.fsum(terms))


def _connor_n(psi: float, delta: float, alpha: float, power: float) -> float:
    """Connor's n = [z_{alpha/2} sqrt(psi) + z_beta sqrt(psi - delta^2)]^2 / delta^2 (unrounded)."""
    spread = math.sqrt(max(psi - delta * delta, 0.0))
    return (_z(alpha / 2.0) * math.sqrt(psi) + _z(1.0 - power) * spread) ** 2 / (delta * delta)


def _check_alpha_power(alpha: float, power: float) -> None:
    _require_probability("alpha", alpha, open_interval=True)
    _require_probability("power", power, open_interval=True)
    if power < 0.5:
        raise ValueError(f"power must be >= 0.5 for the sample-size formula, got {power}")


def mcnemar_sample_size(p10: float, p01: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Pairs needed by the two-sided McNemar test (Connor 1987, eq. for n, p. 209):

    n = ceil([z_{alpha/2} sqrt(psi) + z_beta sqrt(psi - delta^2)]^2 / delta^2),
    psi = p10 + p01, delta = p01 - p10, z_beta = Phi^{-1}(power). Raises for delta = 0.
    Reference: p10 = 0.05, p01 = 0.45, alpha = 0.05, power = 0.8 -> 23.
    """
    _check_alpha_power(alpha, power)
    psi, delta = _check_discordance(p10, p01)
    if delta == 0.0:
        raise ValueError("p01 == p10: there is no effect to detect, so no sample size suffices")
    return math.ceil(_connor_n(psi, delta, alpha, power) - 1e-9)


def _smallest_true(predicate: Callable[[float], bool], low: float, high: float,
                   tolerance: float = 1e-7) -> float | None:
    """Smallest x in (low, high] with predicate(x) true, for a monotone predicate (bisection)."""
    if not predicate(high):
        return None
    while high - low > tolerance:
        middle = (low + high) / 2.0
        if predicate(middle):
            high = middle
        else:
            low = middle
    rounded_up = math.ceil(high * 1e6) / 1e6  # 6 decimals, never below the threshold
    return rounded_up if predicate(rounded_up) else high


def mcnemar_mde(n: int, discordance: float, *, alpha: float = 0.05,
                power: float = 0.8) -> float | None:
    """Minimum detectable effect delta = p01 - p10 for n pairs, fixed discordance model.

    Model: the share of discordant pairs psi = p10 + p01 is held at `discordance` (e.g. the
    observed (b + c)/n) and only its split varies; returns the smallest delta in (0, psi] whose
    Connor sample size (see mcnemar_sample_size, unrounded) is <= n, found by bisection, or
    None if even delta = psi (every discordant pair favours the candidate) needs more pairs.
    """
    _require_int("n", n, 1)
    _check_alpha_power(alpha, power)
    psi = _require_probability("discordance", discordance)
    if psi == 0.0:
        return None
    return _smallest_true(lambda d: _connor_n(psi, d, alpha, power) <= n, 0.0, psi)


TASK_GAIN_ASSUMPTION = (
    "each task i keeps its measured baseline pass probability p_i and the candidate raises it "
    "to q_i = min(1, p_i + gain); baseline and candidate outcomes on a task are independent, so "
    "p10 = mean_i p_i (1 - q_i) and p01 = mean_i (1 - p_i) q_i; sample sizes from Connor (1987): "
    "n = [z_{a/2} sqrt(psi) + z_b sqrt(psi - delta^2)]^2 / delta^2, psi = p10 + p01, "
    "delta = p01 - p10 (a normal approximation; the exact McNemar test needs a few percent more tasks)"
)


def task_gain_discordance(task_pass_rates: Sequence[float], gain: float) -> tuple[float, float]:
    """(p10, p01) under TASK_GAIN_ASSUMPTION for the given per-task baseline pass rates."""
    rates = [_require_probability("task pass rate", r) for r in task_pass_rates]
    if not rates:
        raise ValueError("power planning needs at least one task pass rate")
    _require_probability("gain", gain)
    raised = [min(1.0, r + gain) for r in rates]
    p10 = math.fsum(r * (1.0 - q) for r, q in zip(rates, raised)) / len(rates)
    p01 = math.fsum((1.0 - r) * q for r, q in zip(rates, raised)) / len(rates)
    return p10, p01


def _task_gain_n(task_pass_rates: Sequence[float], gain: float, alpha: float,
                 power: float) -> float | None:
    p10, p01 = task_gain_discordance(task_pass_rates, gain)
    psi, delta = p10 + p01, p01 - p10
    if delta <= 0.0 or psi - delta * delta <= 0.0:
        return None  # every task already passes: the gain cannot happen
    return _connor_n(psi, delta, alpha, power)


def power_plan(task_pass_rates: Sequence[float], n_available: int, *, alpha: float = 0.05,
               power: float = 0.8,
               gains: Sequence[float] = (0.02, 0.05, 0.10, 0.15)) -> dict:
    """How many paired tasks the McNemar test needs per pass@1 gain, and the minimum
    detectable gain ("mde") for `n_available` tasks, under TASK_GAIN_ASSUMPTION.

    Returns {"alpha", "power", "n_available", "assumption", "required_n": {format(g, "g"):
    int or None (None: the capped gain is zero, i.e. every task already passes)}, "mde": float
    or None (None: not detectable even with gain = 1)}.
    """
    _require_int("n_available", n_available, 1)
    _check_alpha_power(alpha, power)
    required = {}
    for gain in gains:
        n_float = _task_gain_n(task_pass_rates, gain, alpha, power)
        required[format(gain, "g")] = None if n_float is None else math.ceil(n_float - 1e-9)

    def detectable(gain: float) -> bool:
        n_float = _task_gain_n(task_pass_rates, gain, alpha, power)
        return n_float is not None and n_float <= n_available

    mde = _smallest_true(detectable, 0.0, 1.0)
    return {"alpha": alpha, "power": power, "n_available": n_available,
            "assumption": TASK_GAIN_ASSUMPTION, "required_n": required,
            "mde": mde}
