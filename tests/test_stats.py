"""codeself.reporting.stats against hand-worked values and published reference values.

Each published value names its source in a comment. Hand-worked values show the arithmetic.
"""

import itertools
import math
import random
import unittest
from fractions import Fraction
from statistics import NormalDist

import support  # noqa: F401

from codeself.reporting import power, stats


def naive_pass_at_k(n, c, k):
    """1 - C(n-c, k)/C(n, k) in exact rationals (math.comb; C(a, k) = 0 for a < k)."""
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


class PassAtKTest(unittest.TestCase):
    def test_hand_worked(self):
        # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
        self.assertAlmostEqual(stats.pass_at_k(5, 2, 2), 0.7, places=15)
        # k=1 is the plain pass fraction c/n = 3/10
        self.assertAlmostEqual(stats.pass_at_k(10, 3, 1), 0.3, places=15)
        # n - c < k: 5 - 4 = 1 < 2, every pair contains a pass
        self.assertEqual(stats.pass_at_k(5, 4, 2), 1.0)
        self.assertEqual(stats.pass_at_k(5, 0, 3), 0.0)
        self.assertEqual(stats.pass_at_k(5, 5, 5), 1.0)

    def test_matches_naive_combinatorial_formula(self):
        for n in range(1, 16):
            for c in range(n + 1):
                for k in range(1, n + 1):
                    with self.subTest(n=n, c=c, k=k):
                        self.assertAlmostEqual(stats.pass_at_k(n, c, k),
                                               naive_pass_at_k(n, c, k), places=13)

    def test_stable_at_100000_samples(self):
        # k=1 must equal c/n exactly up to rounding: 3/100000
        self.assertAlmostEqual(stats.pass_at_k(100_000, 3, 1), 3e-5, delta=1e-17)
        # k=10, c=1: 1 - (n-10)/n = 10/n = 1e-4 (tiny result kept precise by expm1)
        self.assertAlmostEqual(stats.pass_at_k(100_000, 1, 10), 1e-4, delta=1e-16)
        # against exact rationals for a case math.comb can still do quickly
        self.assertAlmostEqual(stats.pass_at_k(100_000, 70, 50),
                               naive_pass_at_k(100_000, 70, 50), places=12)
        self.assertEqual(stats.pass_at_k(100_000, 50_000, 1000), 1.0)

    def test_rejects_bad_input(self):
        for args in [(5, 2, 6), (5, 6, 1), (5, 2, 0), (0, 0, 1), (5, -1, 1), (5.0, 2, 1), (True, 1, 1)]:
            with self.subTest(args=args), self.assertRaises(ValueError):
                stats.pass_at_k(*args)


class BinomialAndMcNemarTest(unittest.TestCase):
    def test_mcnemar_exact_hand_worked(self):
        # b=10, c=2: n=12, 2*P(X<=2) = 2*(C(12,0)+C(12,1)+C(12,2))/2^12 = 2*79/4096 = 0.03857
        self.assertEqual(stats.mcnemar_exact(10, 2), 2 * 79 / 4096)
        self.assertAlmostEqual(stats.mcnemar_exact(2, 10), 0.0386, places=4)
        # b=c: the cap min(1, ...) applies
        self.assertEqual(stats.mcnemar_exact(3, 3), 1.0)
        self.assertEqual(stats.mcnemar_exact(0, 0), 1.0)
        # b=5, c=0: 2 * (1/32) = 0.0625 (five discordant pairs cannot reach 0.05)
        self.assertEqual(stats.mcnemar_exact(5, 0), 0.0625)

    def test_mcnemar_midp_hand_worked(self):
        # b=10, c=2: 2*79/4096 - C(12,2)/4096 = (158 - 66)/4096 = 92/4096 = 0.022461
        self.assertEqual(stats.mcnemar_midp(10, 2), 92 / 4096)
        # b=5, c=0: 2/32 - 1/32 = 1/32
        self.assertEqual(stats.mcnemar_midp(0, 5), 1 / 32)
        self.assertEqual(stats.mcnemar_midp(4, 4), 1.0)
        self.assertEqual(stats.mcnemar_midp(0, 0), 1.0)

    def test_mcnemar_asymptotic_matches_r(self):
        # R output shown for mcnemar.test(matrix(c(48, 86, 150, 510), nrow=2, byrow=TRUE))
        # (discordant 86 and 150) on the "McNemar's Test in R" tutorial page
        # (selva86.github.io): chi-squared = 16.818, df = 1, p-value = 4.115e-05.
        # By hand: (|150-86| - 1)^2 / 236 = 3969/236 = 16.8178
        statistic, p = stats.mcnemar_asymptotic_cc(150, 86)
        self.assertAlmostEqual(statistic, 3969 / 236, places=12)
        self.assertAlmostEqual(statistic, 16.818, places=3)
        self.assertAlmostEqual(p * 1e5, 4.115, places=3)
        self.assertEqual(stats.mcnemar_asymptotic_cc(0, 0), (0.0, 1.0))
        self.assertEqual(stats.mcnemar_asymptotic_cc(4, 5), (0.0, 1.0))

    def test_binom_test_r_documentation_example(self):
        # R's ?binom.test example (Conover 1971, p. 97f): binom.test(c(682, 243), p = 3/4)
        # -> p-value = 0.3825 (R documentation; quoted in public R course scripts).
        self.assertAlmostEqual(stats.binom_test_two_sided(682, 925, 0.75), 0.3825, places=4)

    def test_binom_test_hand_worked_asymmetric(self):
        # n=5, p=0.2, k=3: pmf = [1024, 1280, 640, 160, 20, 1] / 3125.
        # Outcomes with pmf <= pmf(3)=160: k=3,4,5 -> (160+20+1)/3125 = 181/3125 = 0.05792
        self.assertAlmostEqual(stats.binom_test_two_sided(3, 5, 0.2), 181 / 3125, places=14)
        # k=0 (pmf 1024): all outcomes except k=1 (1280) -> (3125-1280)/3125 = 0.5904
        self.assertAlmostEqual(stats.binom_test_two_sided(0, 5, 0.2), 1845 / 3125, places=14)
        self.assertEqual(stats.binom_test_two_sided(0, 0), 1.0)
        self.assertEqual(stats.binom_test_two_sided(0, 4, 0.0), 1.0)
        self.assertEqual(stats.binom_test_two_sided(1, 4, 0.0), 0.0)

    def test_binom_test_against_exact_rationals(self):
        # Oracle: the same definition evaluated in exact rational arithmetic (math.comb and
        # Fraction of the float p), rounded once. Includes p-values far below 1e-10.
        def oracle(k, n, p):
            p = Fraction(p)
            pmf = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
            threshold = pmf[k] * Fraction(1 + 1e-7)
            return min(1.0, float(sum(x for x in pmf if x <= threshold)))

        for k, n, p in [(20, 150, 0.3), (7, 60, 0.01), (80, 120, 0.6), (149, 150, 0.75), (3, 10, 0.5)]:
            with self.subTest(k=k, n=n, p=p):
                expected = oracle(k, n, p)
                self.assertAlmostEqual(stats.binom_test_two_sided(k, n, p) / expected, 1.0, places=9)

    def test_exact_and_log_space_paths_agree(self):
        n = stats.EXACT_TAIL_MAX_N
        exact_tail, exact_point = stats._half_binomial_tail(950, n)
        logs = [stats._log_binom_pmf(i, n, 0.5) for i in range(951)]
        log_tail = math.exp(stats._log_sum_exp(logs))
        self.assertAlmostEqual(log_tail / exact_tail, 1.0, places=9)
        self.assertAlmostEqual(math.exp(logs[-1]) / exact_point, 1.0, places=9)

    def test_stable_at_100000_pairs(self):
        # b - c = 1000 among 100,000 discordant pairs: z = 1000/sqrt(100000) = 3.162,
        # the normal approximation of the two-sided tail with continuity is
        # erfc((|b-c|-1)/sqrt(2n)) = 0.00158; the exact value must be close and finite.
        p = stats.mcnemar_exact(50_500, 49_500)
        approx = math.erfc(999 / math.sqrt(2 * 100_000))
        self.assertTrue(0 < p < 1)
        self.assertAlmostEqual(p / approx, 1.0, places=2)
        # an extreme table underflows gracefully to 0 instead of raising
        self.assertEqual(stats.mcnemar_exact(100_000, 0), 0.0)
        self.assertTrue(0 <= stats.mcnemar_midp(60_000, 40_000) < 1e-300)
        p_general = stats.binom_test_two_sided(30_500, 100_000, 0.3)
        self.assertTrue(0 < p_general < 1)

    def test_rejects_bad_counts(self):
        for call in [lambda: stats.mcnemar_exact(-1, 2), lambda: stats.mcnemar_midp(1.5, 2),
                     lambda: stats.binom_test_two_sided(6, 5), lambda: stats.binom_test_two_sided(1, 5, 1.5)]:
            with self.assertRaises(ValueError):
                call()


class WilsonIntervalTest(unittest.TestCase):
    def test_published_values_z_1_96(self):
        # README of github.com/msn0/wilson-score-interval (z = 1.96 exactly):
        # wilson(10, 14) -> 0.4535045882751561 .. 0.882788120898909
        # wilson(430, 474) -> 0.8776750858242243 .. 0.9301239839930541
        confidence = 2 * NormalDist().cdf(1.96) - 1
        low, high = stats.wilson_interval(10, 14, confidence)
        self.assertAlmostEqual(low, 0.4535045882751561, places=12)
        self.assertAlmostEqual(high, 0.882788120898909, places=12)
        low, high = stats.wilson_interval(430, 474, confidence)
        self.assertAlmostEqual(low, 0.8776750858242243, places=12)
        self.assertAlmostEqual(high, 0.9301239839930541, places=12)

    def test_newcombe_examples(self):
        # Newcombe (1998) Stat Med 17:857, score method without continuity correction,
        # 95%: 81/263 -> 0.2553-0.3662; 15/148 -> 0.0624-0.1605; 0/20 -> 0-0.1611;
        # 1/29 -> 0.0061-0.1718 (values as we recall them from the paper's worked examples;
        # they agree with the formula computed by hand to 4 d.p.).
        cases = {(81, 263): (0.2553, 0.3662), (15, 148): (0.0624, 0.1605),
                 (0, 20): (0.0, 0.1611), (1, 29): (0.0061, 0.1718)}
        for (k, n), (low, high) in cases.items():
            got = stats.wilson_interval(k, n)
            self.assertAlmostEqual(got[0], low, places=4)
            self.assertAlmostEqual(got[1], high, places=4)

    def test_bounds_exact_at_edges(self):
        self.assertEqual(stats.wilson_interval(0, 7)[0], 0.0)
        self.assertEqual(stats.wilson_interval(7, 7)[1], 1.0)
        with self.assertRaises(ValueError):
            stats.wilson_interval(3, 0)
        with self.assertRaises(ValueError):
            stats.wilson_interval(1, 2, confidence=1.0)


class BootstrapTest(unittest.TestCase):
    values = [0, 1, 1, 0, 1, 1, 1, 0, 0, 1]

    def test_same_seed_same_interval_other_seed_differs(self):
        first = stats.bootstrap_mean_ci(self.values, seed=7, n_resamples=500)
        self.assertEqual(first, stats.bootstrap_mean_ci(self.values, seed=7, n_resamples=500))
        self.assertTrue(first[0] <= 0.6 <= first[1])
        # continuous rewards: interpolated quantiles differ between seeds
        rewards = [i * 0.137 % 1.0 for i in range(40)]
        one = stats.bootstrap_mean_ci(rewards, seed=7, n_resamples=200)
        self.assertEqual(one, stats.bootstrap_mean_ci(rewards, seed=7, n_resamples=200))
        self.assertNotEqual(one, stats.bootstrap_mean_ci(rewards, seed=8, n_resamples=200))

    def test_constant_values_give_a_point(self):
        self.assertEqual(stats.bootstrap_mean_ci([0.25] * 5, seed=1), (0.25, 0.25))

    def test_quantile_type_7(self):
        # positions q*(n-1): 0.25*4 = 1 -> 2.0; 0.1*4 = 0.4 -> 1 + 0.4*(2-1) = 1.4
        self.assertEqual(stats._quantile([1.0, 2.0, 3.0, 4.0, 10.0], 0.25), 2.0)
        self.assertAlmostEqual(stats._quantile([1.0, 2.0, 3.0, 4.0, 10.0], 0.1), 1.4)

    def test_paired_bootstrap(self):
        baseline = [1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0]
        candidate = [1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 0]  # 6 gains, 0 losses: diff = 0.5
        for method in ("percentile", "bca"):
            with self.subTest(method=method):
                ci = stats.paired_bootstrap_diff_ci(baseline, candidate, seed=3, method=method)
                self.assertEqual(ci, stats.paired_bootstrap_diff_ci(baseline, candidate, seed=3,
                                                                    method=method))
                self.assertTrue(0.0 < ci[0] < 0.5 < ci[1] <= 1.0)
        both = stats.paired_bootstrap_diff_cis(baseline, candidate, seed=3)
        self.assertEqual(both["bca"], stats.paired_bootstrap_diff_ci(baseline, candidate, seed=3, method="bca"))
        self.assertEqual(both["percentile"], stats.paired_bootstrap_diff_ci(baseline, candidate, seed=3))
        # identical models: every resampled difference is 0
        self.assertEqual(stats.paired_bootstrap_diff_ci(baseline, baseline, seed=1), (0.0, 0.0))
        with self.assertRaises(ValueError):
            stats.paired_bootstrap_diff_ci([1, 0], [1], seed=1)
        with self.assertRaises(ValueError):
            stats.paired_bootstrap_diff_ci([1], [1], seed=1, method="basic")

    def test_bca_levels_hand_worked(self):
        # diffs 0,0,0,1 (estimate 0.25). Jackknife means: 1/3 (three times), 0; their mean 0.25.
        # sum (0.25 - m_i)^2 = 3/144 + 1/16 = 1/12; sum (0.25 - m_i)^3 = -3/1728 + 1/64 = 1/72
        # a = (1/72) / (6 * (1/12)^1.5) = 0.0962250
        # bootstrap means 0, .25, .25, .5, .5, .75: below 0.25 -> 1 + 2 ties/2 = 2 of 6,
        # z0 = Phi^-1(1/3) = -0.4307273
        # level(q) = Phi(z0 + (z0 + z_q) / (1 - a (z0 + z_q))):
        #   q = .025: z0 + z_q = -2.3906913 -> Phi(-0.4307273 - 1.9435813) = Phi(-2.3743086) = 0.0087909
        #   q = .975: z0 + z_q = 1.5292367 -> Phi(-0.4307273 + 1.7930917) = Phi(1.3623644) = 0.9134585
        low, high = stats._bca_levels([0.0, 0.0, 0.0, 1.0], [0, 0.25, 0.25, 0.5, 0.5, 0.75], 0.05)
        self.assertAlmostEqual(low, 0.0087909, places=6)
        self.assertAlmostEqual(high, 0.9134585, places=6)

    def test_bca_levels_symmetric_data_stay_near_percentile(self):
        # Symmetric differences around 0 with the estimate exactly at the bootstrap median:
        # z0 = 0 and a = 0 (jackknife means symmetric), so BCa levels equal alpha/2, 1-alpha/2.
        diffs = [-1.0, 1.0, -1.0, 1.0]
        means = sorted([-0.5, 0.5, -0.25, 0.25, 0.0, 0.0])  # half below, zeros count half
        low, high = stats._bca_levels(diffs, means, 0.05)
        self.assertAlmostEqual(low, 0.025, places=12)
        self.assertAlmostEqual(high, 0.975, places=12)


class PowerTest(unittest.TestCase):
    def test_connor_sample_size_published_example(self):
        # powerandsamplesize.com / zarathucorp open-powersamplesize "McNemar's Z-test,
        # 2-Sided Equality" (citing Connor 1987, Biometrics 43:207, p. 209):
        # p01 = 0.45, p10 = 0.05, alpha = 0.05, beta = 0.20 -> ceiling(n) = 23.
        # By hand: psi = 0.5, delta = 0.4; (1.95996*0.70711 + 0.84162*0.58310)^2 / 0.16
        #        = (1.38590 + 0.49075)^2 / 0.16 = 3.52182 / 0.16 = 22.01 -> 23
        self.assertEqual(power.mcnemar_sample_size(0.05, 0.45, 0.05, 0.8), 23)
        self.assertEqual(power.mcnemar_sample_size(0.45, 0.05, 0.05, 0.8), 23)
        n_float = power._connor_n(0.5, 0.4, 0.05, 0.8)
        self.assertAlmostEqual(n_float, 22.011, places=2)

    def test_power_inverts_sample_size(self):
        # At the unrounded n the power is 0.8 up to the negligible opposite tail.
        n = power.mcnemar_sample_size(0.1, 0.2)
        self.assertGreaterEqual(power.mcnemar_power(0.1, 0.2, n), 0.8)
        self.assertLess(power.mcnemar_power(0.1, 0.2, n - 1), 0.8)
        # no effect -> power equals alpha: 2 * Phi(-z_{0.025}) = 0.05
        self.assertAlmostEqual(power.mcnemar_power(0.1, 0.1, 100), 0.05, places=12)
        with self.assertRaises(ValueError):
            power.mcnemar_sample_size(0.1, 0.1)

    def test_exact_power_against_brute_force(self):
        # Oracle: enumerate every (b, c) of the trinomial(n; p10, p01, rest) and add the
        # probability of the tables that mcnemar_exact rejects at alpha = 0.05.
        def brute(p10, p01, n):
            total = 0.0
            for b in range(n + 1):
                for c in range(n + 1 - b):
                    if stats.mcnemar_exact(b, c) <= 0.05:
                        total += (math.comb(n, b) * math.comb(n - b, c)
                                  * p10**b * p01**c * (1 - p10 - p01) ** (n - b - c))
            return total

        for p10, p01, n in [(0.1, 0.3, 12), (0.05, 0.45, 23), (0.0, 0.2, 15)]:
            with self.subTest(p10=p10, p01=p01, n=n):
                self.assertAlmostEqual(power.mcnemar_exact_power(p10, p01, n), brute(p10, p01, n), places=12)
        # Connor's normal approximation is a little optimistic for the exact test: at the
        # published example's n = 23 it promises 0.819 where the exact test has 0.777.
        self.assertAlmostEqual(power.mcnemar_exact_power(0.05, 0.45, 23), 0.7766, places=4)
        self.assertAlmostEqual(power.mcnemar_power(0.05, 0.45, 23), 0.8194, places=4)
        self.assertEqual(power.mcnemar_exact_power(0.0, 0.0, 10), 0.0)

    def test_mde_fixed_discordance(self):
        # The returned delta needs at most n pairs, a slightly smaller one needs more.
        delta = power.mcnemar_mde(200, 0.2)
        p10, p01 = (0.2 - delta) / 2, (0.2 + delta) / 2
        self.assertLessEqual(power._connor_n(0.2, delta, 0.05, 0.8), 200 + 1e-6)
        self.assertGreater(power._connor_n(0.2, delta - 1e-4, 0.05, 0.8), 200)
        self.assertGreaterEqual(power.mcnemar_power(p10, p01, 200), 0.8 - 1e-6)
        # about 9 points: (1.96*sqrt(.2) + 0.84*sqrt(.2 - d^2))/sqrt(200) ~ 0.088
        self.assertAlmostEqual(delta, 0.088, places=3)
        self.assertIsNone(power.mcnemar_mde(5, 0.1))  # even delta = psi needs > 5 pairs
        self.assertIsNone(power.mcnemar_mde(100, 0.0))

    def test_power_plan_deterministic_tasks_by_hand(self):
        # Rates all 0 or 1 (half each), gain g: p10 = 0, p01 = g/2, psi = delta = g/2.
        # g = 0.1: n = [1.95996*sqrt(.05) + 0.84162*sqrt(.05 - .0025)]^2 / .0025
        #            = (0.43826 + 0.18343)^2 / 0.0025 = 154.6 -> 155
        plan = power.power_plan([0.0] * 50 + [1.0] * 50, 200)
        self.assertEqual(plan["required_n"]["0.1"], 155)
        self.assertEqual(set(plan["required_n"]), {"0.02", "0.05", "0.1", "0.15"})
        self.assertEqual(plan["n_available"], 200)
        self.assertIn("independent", plan["assumption"])
        p10, p01 = power.task_gain_discordance([0.0] * 50 + [1.0] * 50, plan["mde"])
        self.assertLessEqual(power._connor_n(p10 + p01, p01 - p10, 0.05, 0.8), 200 + 1e-3)

    def test_power_plan_caps_and_unreachable(self):
        # p = 0.9, gain 0.2 -> q capped at 1: p10 = 0, p01 = 0.1 * 1 = 0.1
        p10, p01 = power.task_gain_discordance([0.9], 0.2)
        self.assertEqual(p10, 0.0)
        self.assertAlmostEqual(p01, 0.1, places=15)
        plan = power.power_plan([1.0, 1.0], 10)
        self.assertEqual(plan["required_n"]["0.05"], None)
        self.assertIsNone(plan["mde"])
        with self.assertRaises(ValueError):
            power.power_plan([], 10)
        with self.assertRaises(ValueError):
            power.power_plan([0.5], 10, power=0.3)


def enumerated_sign_flip_p(scores):
    """P(|sum e_i x_i| >= |sum x_i|) over all 2^n sign vectors, as an exact fraction."""
    observed = abs(sum(scores))
    vectors = list(itertools.product((1, -1), repeat=len(scores)))
    return Fraction(sum(abs(sum(e * x for e, x in zip(signs, scores))) >= observed for signs in vectors), len(vectors))


class SignFlipTest(unittest.TestCase):
    def test_hand_worked(self):
        # [3, 2, -1, 0] (differences 3/4, 1/2, -1/4, 0 of four-sample tasks): S = 4; the eight sign
        # vectors of (3, 2, 1) give -6, -4, -2, 0, 0, 2, 4, 6 (the zero doubles both counts): p = 4/8
        self.assertEqual(stats.sign_flip_exact_p([3, 2, -1, 0]), 0.5)
        # [1, 1, 1]: only +++ and --- reach |S| = 3: p = 2/8
        self.assertEqual(stats.sign_flip_exact_p([1, 1, 1]), 0.25)
        # [2, -1]: S = 1; the four sums are 3, 1, -1, -3, all |S*| >= 1: p = 1
        self.assertEqual(stats.sign_flip_exact_p([2, -1]), 1.0)
        self.assertEqual(stats.sign_flip_exact_p([0, 0]), 1.0)
        self.assertEqual(stats.sign_flip_exact_p([]), 1.0)

    def test_matches_enumeration(self):
        rng = random.Random(7)
        for _ in range(150):
            scores = [rng.randint(-6, 6) for _ in range(rng.randint(1, 11))]
            with self.subTest(scores=scores):
                self.assertEqual(stats.sign_flip_exact_p(scores), float(enumerated_sign_flip_p(scores)))

    def test_plus_minus_one_is_exact_mcnemar(self):
        # one sample per task: the sign-flip test is the sign test, i.e. exact McNemar on b and c
        for b in range(9):
            for c in range(9):
                self.assertEqual(stats.sign_flip_exact_p([1] * c + [-1] * b + [0] * 3), stats.mcnemar_exact(b, c))

    def test_scores_on_common_scale(self):
        # 2/3 - 1/4 = 5/12 and -1/2: lcm of 12 and 2 is 12 -> 5 and -6
        self.assertEqual(stats.sign_flip_scores([Fraction(2, 3) - Fraction(1, 4), Fraction(-1, 2), 0]),
                         ([5, -6, 0], 12))
        self.assertEqual(stats.sign_flip_scores([1, -1]), ([1, -1], 1))
        for bad in ([0.5], [True]):
            with self.assertRaises(ValueError):
                stats.sign_flip_scores(bad)
        with self.assertRaises(ValueError):
            stats.sign_flip_exact_p([1.5])

    def test_exact_or_named_monte_carlo(self):
        diffs = [Fraction(k, 4) for k in (3, 3, 3, 2, 1, -1, 0, 3, 2, 2, -2, 1)]
        exact = stats.paired_sign_flip_test(diffs, seed=0)
        scores = [int(4 * d) for d in diffs]
        self.assertEqual(exact, {"test": "sign_flip_exact", "p_value": float(enumerated_sign_flip_p(scores)),
                                 "scale": 4, "states": stats.sign_flip_states(scores), "seed": None,
                                 "resamples": None})
        self.assertEqual(exact["states"], 11 * (sum(abs(x) for x in scores) + 1))
        forced = stats.paired_sign_flip_test(diffs, seed=5, n_resamples=4000, max_states=10)
        self.assertEqual((forced["test"], forced["seed"], forced["resamples"]), ("sign_flip_monte_carlo", 5, 4000))
        self.assertEqual(forced, stats.paired_sign_flip_test(diffs, seed=5, n_resamples=4000, max_states=10))
        # 4000 resamples: standard error of p near 0.03 is about 0.003
        self.assertAlmostEqual(forced["p_value"], exact["p_value"], delta=0.015)
        self.assertEqual(stats.sign_flip_monte_carlo_p([0, 0], seed=1), 1.0)
        with self.assertRaises(ValueError):
            stats.sign_flip_monte_carlo_p([1], seed=1, n_resamples=0)


if __name__ == "__main__":
    unittest.main()
