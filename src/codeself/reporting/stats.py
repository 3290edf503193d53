"""Statistics for paired evaluation of code models (standard library only).

Why these: a CodeSelf study asks whether a candidate model solves more of the *same* held-out
tasks than a baseline, so tests are paired (McNemar on the discordant tasks) and intervals
resample tasks (paired bootstrap). Binomial tails are exact (integer arithmetic) for small n
and computed in log space (math.lgamma, log-sum-exp) for large n, so nothing overflows for
n up to 10^5 and beyond; the relative error of the log-space path is about 1e-9.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from fractions import Fraction
from statistics import NormalDist

EXACT_TAIL_MAX_N = 2000  # above this, binomial tails use the log-space path
_R_RELATIVE_TOLERANCE = 1e-7  # binom.test's tolerance when comparing point probabilities
_STANDARD_NORMAL = NormalDist()


def _require_int(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _require_probability(name: str, value: float, *, open_interval: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    low_ok = value > 0 if open_interval else value >= 0
    high_ok = value < 1 if open_interval else value <= 1
    if not (low_ok and high_ok):
        interval = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return float(value)


def _z(upper_probability: float) -> float:
    """The standard normal quantile z with P(Z > z) = upper_probability."""
    return _STANDARD_NORMAL.inv_cdf(1.0 - upper_probability)


# --------------------------------------------------------------------------- pass@k


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimator (Chen et al. 2021, "Evaluating Large Language Models
    Trained on Code", eq. 1): pass@k = 1 - C(n-c, k) / C(n, k), for n samples of which c pass.

    Computed stably as 1 - prod_{i=n-c+1}^{n} (1 - k/i), the product taken in log space
    (fsum of log1p) and mapped back with expm1, so it neither overflows nor loses precision
    for n up to 10^5 and beyond. Equals 1.0 exactly when n - c < k (every k-subset contains
    a passing sample). Raises ValueError for k > n, k < 1, c outside [0, n].
    """
    _require_int("n", n, 1)
    _require_int("c", c, 0)
    _require_int("k", k, 1)
    if c > n:
        raise ValueError(f"c (passing samples) = {c} exceeds n (samples) = {n}")
    if k > n:
        raise ValueError(f"k = {k} exceeds the number of samples n = {n}; pass@k needs k <= n")
    if n - c < k:
        return 1.0
    if c == 0:
        return 0.0
    log_fail_all = math.fsum(math.log1p(-k / i) for i in range(n - c + 1, n + 1))
    return -math.expm1(log_fail_all)


# --------------------------------------------------------------------------- binomial tails


def _log_binom_pmf(i: int, n: int, p: float) -> float:
    """log P(X = i) for X ~ Binomial(n, p), via lgamma; -inf for impossible outcomes."""
    if p == 0.0:
        return 0.0 if i == 0 else -math.inf
    if p == 1.0:
        return 0.0 if i == n else -math.inf
    log_choose = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
    return log_choose + i * math.log(p) + (n - i) * math.log1p(-p)


def _log_sum_exp(logs: Sequence[float]) -> float:
    finite = [x for x in logs if x != -math.inf]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log(math.fsum(math.exp(x - top) for x in finite))


def _half_binomial_tail(m: int, n: int) -> tuple[float, float]:
    """(P(X <= m), P(X = m)) for X ~ Binomial(n, 1/2).

    Exact rational arithmetic (sum_{i<=m} C(n, i) / 2^n, rounded once to float) for
    n <= EXACT_TAIL_MAX_N; log-space lgamma terms with log-sum-exp above that.
    """
    if n <= EXACT_TAIL_MAX_N:
        term, total = 1, 1  # C(n, 0)
        for i in range(m):
            term = term * (n - i) // (i + 1)
            total += term
        scale = 1 << n
        return float(Fraction(total, scale)), float(Fraction(term, scale))
    logs = [_log_binom_pmf(i, n, 0.5) for i in range(m + 1)]
    return math.exp(_log_sum_exp(logs)), math.exp(logs[-1])


def binom_test_two_sided(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test of H0: success probability = p, given k of n.

    p-value = sum of P(X = i) over all i with P(X = i) <= P(X = k) * (1 + 1e-7), the
    "minimum likelihood" definition used by R's binom.test (the relative tolerance keeps
    outcomes with mathematically equal probability in the sum despite rounding). Capped at 1.
    For p = 1/2 this equals min(1, 2 * P(X <= min(k, n-k))) and is computed exactly for
    n <= EXACT_TAIL_MAX_N; otherwise every term is exp(lgamma-based log pmf), summed in log space.
    """
    _require_int("n", n, 0)
    _require_int("k", k, 0)
    if k > n:
        raise ValueError(f"k = {k} exceeds n = {n}")
    _require_probability("p", p)
    if n == 0:
        return 1.0
    if p == 0.5:
        tail, _ = _half_binomial_tail(min(k, n - k), n)
        return min(1.0, 2.0 * tail)
    if p in (0.0, 1.0):
        return 1.0 if k == (0 if p == 0.0 else n) else 0.0
    threshold = _log_binom_pmf(k, n, p) + math.log1p(_R_RELATIVE_TOLERANCE)
    logs = [lp for lp in (_log_binom_pmf(i, n, p) for i in range(n + 1)) if lp <= threshold]
    return min(1.0, math.exp(_log_sum_exp(logs)))


# --------------------------------------------------------------------------- McNemar


def _check_discordant(b: int, c: int) -> None:
    _require_int("b (baseline-only passes)", b, 0)
    _require_int("c (candidate-only passes)", c, 0)


def mcnemar_exact(b: int, c: int) -> float:
    """Exact (conditional) McNemar test on the discordant pairs b and c, two-sided.

    Under H0 each of the n = b + c discordant pairs is equally likely to go either way, so
    min(b, c) ~ Binomial(n, 1/2): p = min(1, 2 * P(X <= min(b, c))). n = 0 gives p = 1.
    Example: b = 10, c = 2 -> 2 * (1 + 12 + 66) / 4096 = 0.0386.
    """
    _check_discordant(b, c)
    return binom_test_two_sided(min(b, c), b + c, 0.5)


def mcnemar_midp(b: int, c: int) -> float:
    """Mid-p McNemar test (Fagerland, Lydersen & Laake 2013, BMC Med Res Methodol 13:91).

    p_mid = 2 * [P(X <= m) - P(X = m) / 2] with m = min(b, c), X ~ Binomial(b + c, 1/2),
    i.e. the exact p-value minus the probability of the observed table. Equals 1 when b = c.
    """
    _check_discordant(b, c)
    n = b + c
    if n == 0:
        return 1.0
    tail, point = _half_binomial_tail(min(b, c), n)
    return min(1.0, 2.0 * tail - point)


def mcnemar_asymptotic_cc(b: int, c: int) -> tuple[float, float]:
    """McNemar chi-square with continuity correction, for reference only.

    statistic = max(0, |b - c| - 1)^2 / (b + c); p = P(chi2_1 > statistic) = erfc(sqrt(stat/2)).
    (R's mcnemar.test does not clip at 0, so for b = c it reports 1/(b+c) instead of 0; the
    p-values then differ slightly, both near 1.) b + c = 0 gives (0.0, 1.0).
    """
    _check_discordant(b, c)
    n = b + c
    if n == 0:
        return 0.0, 1.0
    statistic = max(0, abs(b - c) - 1) ** 2 / n
    return statistic, math.erfc(math.sqrt(statistic / 2.0))


# --------------------------------------------------------------------------- intervals


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a single proportion (Wilson 1927; Newcombe 1998 method 3).

    With p^ = successes/n and z = Phi^{-1}(1 - (1-confidence)/2):
    (p^ + z^2/(2n) -/+ z * sqrt(p^(1-p^)/n + z^2/(4n^2))) / (1 + z^2/n).
    The bounds are exactly 0 when successes = 0 and exactly 1 when successes = n.
    """
    _require_int("n", n, 1)
    _require_int("successes", successes, 0)
    if successes > n:
        raise ValueError(f"successes = {successes} exceeds n = {n}")
    _require_probability("confidence", confidence, open_interval=True)
    z = _z((1.0 - confidence) / 2.0)
    p_hat = successes / n
    denominator = 1.0 + z * z / n
    centre = (p_hat + z * z / (2.0 * n)) / denominator
    half_width = z * math.sqrt(p_hat * (1.0 - p_hat) / n + z * z / (4.0 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half_width)
    high = 1.0 if successes == n else min(1.0, centre + half_width)
    return low, high


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (Hyndman & Fan type 7, numpy's default) of sorted data."""
    position = q * (len(sorted_values) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(sorted_values) - 1)
    weight = position - lower
    return sorted_values[lower] + weight * (sorted_values[upper] - sorted_values[lower])


def _bootstrap_means(values: Sequence[float], seed: int, n_resamples: int) -> list[float]:
    """Sorted means of `n_resamples` resamples (with replacement) drawn by random.Random(seed)."""
    _require_int("n_resamples", n_resamples, 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    data = [float(v) for v in values]
    if not data:
        raise ValueError("cannot bootstrap an empty sequence")
    rng = random.Random(seed)
    n = len(data)
    return sorted(math.fsum(rng.choices(data, k=n)) / n for _ in range(n_resamples))


def bootstrap_mean_ci(values: Sequence[float], *, seed: int, n_resamples: int = 2000,
                      confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean, resampling the values (tasks).

    Draw B = n_resamples resamples of size n with replacement using random.Random(seed);
    the interval is the (alpha/2, 1 - alpha/2) type-7 quantiles of the B resample means,
    alpha = 1 - confidence. Same values + seed -> identical interval.
    """
    _require_probability("confidence", confidence, open_interval=True)
    means = _bootstrap_means(values, seed, n_resamples)
    alpha = 1.0 - confidence
    return _quantile(means, alpha / 2.0), _quantile(means, 1.0 - alpha / 2.0)


def _bca_levels(diffs: Sequence[float], means: Sequence[float], alpha: float) -> tuple[float, float]:
    """BCa-adjusted quantile levels (Efron 1987; Efron & Tibshirani 1993, ch. 14).

    z0 = Phi^{-1}(share of bootstrap means below the estimate, ties counted half);
    a = sum (m - m_i)^3 / (6 [sum (m - m_i)^2]^{3/2}) over jackknife means m_i (leave task i
    out), m their average; level(q) = Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q))).
    """
    n, count = len(diffs), len(means)
    estimate = math.fsum(diffs) / n
    below = sum(1 for m in means if m < estimate) + 0.5 * sum(1 for m in means if m == estimate)
    share = min(max(below / count, 0.5 / count), 1.0 - 0.5 / count)
    z0 = _STANDARD_NORMAL.inv_cdf(share)
    total = math.fsum(diffs)
    jackknife = [(total - d) / (n - 1) for d in diffs] if n > 1 else [estimate]
    jack_mean = math.fsum(jackknife) / len(jackknife)
    squares = math.fsum((jack_mean - m) ** 2 for m in jackknife)
    cubes = math.fsum((jack_mean - m) ** 3 for m in jackknife)
    acceleration = cubes / (6.0 * squares ** 1.5) if squares > 0 else 0.0

    def level(q: float) -> float:
        zq = _STANDARD_NORMAL.inv_cdf(q)
        return _STANDARD_NORMAL.cdf(z0 + (z0 + zq) / (1.0 - acceleration * (z0 + zq)))

    return level(alpha / 2.0), level(1.0 - alpha / 2.0)


def paired_bootstrap_diff_cis(baseline: Sequence[float], candidate: Sequence[float], *,
                              seed: int, n_resamples: int = 2000,
                              confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile and BCa paired bootstrap intervals for mean(candidate) - mean(baseline).

    The i-th entries of both sequences belong to the same task, so resampling the per-task
    differences d_i = candidate_i - baseline_i keeps the pairing. "percentile": type-7
    quantiles at (alpha/2, 1 - alpha/2) of the B resampled mean differences; "bca": the same
    resamples read at BCa-adjusted levels (see _bca_levels) that correct for bias and skew.
    Cost: n x B Python-level draws (about 1 microsecond each; 974 tasks x 2000 ~ 0.5 s).
    """
    if len(baseline) != len(candidate):
        raise ValueError(f"paired samples differ in length: {len(baseline)} vs {len(candidate)}")
    _require_probability("confidence", confidence, open_interval=True)
    diffs = [float(c) - float(b) for b, c in zip(baseline, candidate)]
    means = _bootstrap_means(diffs, seed, n_resamples)
    alpha = 1.0 - confidence
    if means[0] == means[-1]:  # no variation: every resample gives the same difference
        return {"percentile": (means[0], means[0]), "bca": (means[0], means[0])}
    low_q, high_q = _bca_levels(diffs, means, alpha)
    return {"percentile": (_quantile(means, alpha / 2.0), _quantile(means, 1.0 - alpha / 2.0)),
            "bca": (_quantile(means, low_q), _quantile(means, high_q))}


def paired_bootstrap_diff_ci(baseline: Sequence[float], candidate: Sequence[float], *,
                             seed: int, n_resamples: int = 2000, confidence: float = 0.95,
                             method: str = "percentile") -> tuple[float, float]:
    """One interval of paired_bootstrap_diff_cis (method "percentile" or "bca")."""
    if method not in ("percentile", "bca"):
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    return paired_bootstrap_diff_cis(baseline, candidate, seed=seed, n_resamples=n_resamples,
                                     confidence=confidence)[method]


# --------------------------------------------------------------------------- power (Connor 1987)


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
