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
from collections.abc import Sequence
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


# --------------------------------------------------------------------------- paired sign-flip test

SIGN_FLIP_MAX_STATES = 10 ** 7  # above this DP size the exact test gives way to Monte Carlo
SIGN_FLIP_MONTE_CARLO_RESAMPLES = 20000


def _as_fraction(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise ValueError(f"{name} must be an int or a Fraction (exact), got {value!r}")
    return Fraction(value)


def sign_flip_scores(differences: Sequence[int | Fraction]) -> tuple[list[int], int]:
    """The per-task differences as integers on a common scale, and that scale.

    Why: a difference of per-task pass fractions c/k is a multiple of 1/k, so multiplying by
    the lcm of the (reduced) denominators makes every difference an exact integer; the test
    statistic, a sum, is then an integer and its null distribution a finite convolution.
    Example: [3/4, 1/2, -1/4, 0] -> ([3, 2, -1, 0], 4).
    """
    exact = [_as_fraction(f"difference {i}", d) for i, d in enumerate(differences)]
    scale = math.lcm(*(d.denominator for d in exact)) if exact else 1
    return [int(d * scale) for d in exact], scale


def sign_flip_states(scores: Sequence[int]) -> int:
    """Size of the exact test's dynamic programme: non-zero scores x (sum |score| + 1)."""
    nonzero = [abs(s) for s in scores if s]
    return len(nonzero) * (sum(nonzero) + 1)


def sign_flip_exact_p(scores: Sequence[int]) -> float:
    """Exact two-sided paired sign-flip (Fisher-Pitman permutation) test on integer scores.

    Under H0 (the two models are exchangeable on every task) each task's difference x_i is
    equally likely to have either sign, independently: S* = sum(e_i x_i), e_i = +-1 with
    probability 1/2. p = P(|S*| >= |S_obs|), S_obs = sum(x_i), counted exactly over all 2^m
    sign vectors of the m non-zero scores (zeros change neither side). Writing S* = 2P - T with
    P the sum of the |x_i| given a plus sign and T = sum |x_i|, the counts of P are the
    subset-sum counts of the |x_i|, built one score at a time (O(m T) integer additions).
    Hand-worked: scores [3, 2, -1, 0] (differences 3/4, 1/2, -1/4, 0 of 4-sample tasks):
    S_obs = 4; the 8 sign vectors of (3, 2, 1) give S* = -6, -4, -2, 0, 0, 2, 4, 6; four have
    |S*| >= 4, so p = 4/8 = 0.5. With scores all +-1 this is the exact sign test, i.e. the
    exact McNemar test with b = number of -1 and c = number of +1.
    """
    magnitudes = []
    for i, score in enumerate(scores):
        if isinstance(score, bool) or not isinstance(score, int):
            raise ValueError(f"score {i} must be an integer, got {score!r}")
        if score:
            magnitudes.append(abs(score))
    observed = abs(sum(scores))
    if not magnitudes:
        return 1.0
    counts = [1]  # counts[p] = sign vectors whose plus-signed magnitudes sum to p
    for size in magnitudes:
        counts = [low + high for low, high in zip(counts + [0] * size, [0] * size + counts)]
    total = len(counts) - 1
    extreme = sum(count for p, count in enumerate(counts) if abs(2 * p - total) >= observed)
    return float(Fraction(extreme, 1 << len(magnitudes)))


def sign_flip_monte_carlo_p(scores: Sequence[int | float], *, seed: int,
                            n_resamples: int = SIGN_FLIP_MONTE_CARLO_RESAMPLES) -> float:
    """Monte Carlo version of sign_flip_exact_p: random.Random(seed) draws `n_resamples` sign vectors.

    p = (1 + hits) / (1 + n_resamples), hits = resamples with |S*| >= |S_obs| (Phipson & Smyth
    2010: counting the observed vector keeps p > 0 and the test valid). For when the exact
    programme would be too large (SIGN_FLIP_MAX_STATES).
    """
    _require_int("n_resamples", n_resamples, 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    values = [s for s in scores if s]
    observed = abs(sum(values))
    if not values:
        return 1.0
    rng, total, hits = random.Random(seed), sum(values), 0
    for _ in range(n_resamples):
        bits = rng.getrandbits(len(values))
        plus = sum(v for i, v in enumerate(values) if bits >> i & 1)
        hits += abs(2 * plus - total) >= observed
    return (1 + hits) / (1 + n_resamples)


def paired_sign_flip_test(differences: Sequence[int | Fraction], *, seed: int,
                          n_resamples: int = SIGN_FLIP_MONTE_CARLO_RESAMPLES,
                          max_states: int = SIGN_FLIP_MAX_STATES) -> dict:
    """Two-sided paired sign-flip test of mean(differences) = 0 over tasks, exact when feasible.

    Returns {"test": "sign_flip_exact" | "sign_flip_monte_carlo", "p_value", "scale" (the lcm
    that made the differences integers), "states" (size of the exact programme), "seed" and
    "resamples" (null for the exact test)}. Exact unless states > max_states.
    """
    scores, scale = sign_flip_scores(differences)
    states = sign_flip_states(scores)
    if states <= max_states:
        return {"test": "sign_flip_exact", "p_value": sign_flip_exact_p(scores), "scale": scale,
                "states": states, "seed": None, "resamples": None}
    return {"test": "sign_flip_monte_carlo", "p_value": sign_flip_monte_carlo_p(scores, seed=seed,
                                                                               n_resamples=n_resamples),
            "scale": scale, "states": states, "seed": seed, "resamples": n_resamples}
