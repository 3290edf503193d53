"""Every trainer formula against values worked out by hand here (../shared/RL_REFERENCE.md)."""

import support  # noqa: F401

import math
import random
import unittest

from codeself.training import algorithms as alg
from codeself.training.config import GRPOConfig, RLOOConfig
from codeself.training.policy import DECISIONS, Params, Sample, SoftmaxPolicy
from codeself.training.updates import Completion, grpo_update, rloo_update


class AdvantageTest(unittest.TestCase):
    def test_grpo_group_scaling(self):
        # group [1, 0, 0, 1]: mean 0.5, unbiased std sqrt(4 * 0.25 / 3) = 0.577350...
        std = math.sqrt(1 / 3)
        expected = [0.5 / (std + 1e-4), -0.5 / (std + 1e-4), -0.5 / (std + 1e-4), 0.5 / (std + 1e-4)]
        for got, want in zip(alg.grpo_advantages([1, 0, 0, 1], 4, "group"), expected):
            self.assertAlmostEqual(got, want, places=12)

    def test_grpo_none_and_batch_scaling(self):
        rewards = [1, 0, 0, 1, 1, 1, 1, 1]
        self.assertEqual(alg.grpo_advantages(rewards, 4, "none"), [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0])
        # batch std of the 8 rewards: mean 0.75, squares 6 * 0.0625 + 2 * 0.5625 = 1.5, / 7
        batch_std = math.sqrt(1.5 / 7)
        got = alg.grpo_advantages(rewards, 4, "batch")
        self.assertAlmostEqual(got[0], 0.5 / (batch_std + 1e-4), places=12)
        self.assertAlmostEqual(got[1], -0.5 / (batch_std + 1e-4), places=12)
        self.assertEqual(got[4:], [0.0] * 4)  # the mean is still per group

    def test_grpo_zero_variance_group_has_zero_advantage(self):
        self.assertEqual(alg.grpo_advantages([1, 1, 1], 3, "group"), [0.0, 0.0, 0.0])

    def test_rloo_leave_one_out_baseline(self):
        # rewards [1, 0, 0]: baselines [0, 0.5, 0.5] -> [1, -0.5, -0.5] = k/(k-1) (r - mean)
        self.assertEqual(alg.rloo_advantages([1, 0, 0], 3), [1.0, -0.5, -0.5])
        self.assertEqual(alg.rloo_advantages([1, 0], 2), [1.0, -1.0])
        with self.assertRaisesRegex(ValueError, "k >= 2"):
            alg.rloo_advantages([1], 1)

    def test_whiten_uses_bessel_and_eps(self):
        got = alg.whiten([1.0, 3.0])  # mean 2, unbiased var 2
        self.assertAlmostEqual(got[0], -1 / math.sqrt(2 + 1e-8), places=12)
        self.assertAlmostEqual(got[1], 1 / math.sqrt(2 + 1e-8), places=12)


class GAETest(unittest.TestCase):
    def test_three_steps_by_hand(self):
        # r = [0, 0, 1], V = [0.5, 0.6, 0.7], gamma 0.9, lam 0.8 (gamma * lam = 0.72)
        # delta2 = 1 - 0.7 = 0.3; delta1 = 0.9 * 0.7 - 0.6 = 0.03; delta0 = 0.9 * 0.6 - 0.5 = 0.04
        # A2 = 0.3; A1 = 0.03 + 0.72 * 0.3 = 0.246; A0 = 0.04 + 0.72 * 0.246 = 0.21712
        advantages, returns = alg.gae([0, 0, 1], [0.5, 0.6, 0.7], gamma=0.9, lam=0.8)
        for got, want in zip(advantages, [0.21712, 0.246, 0.3]):
            self.assertAlmostEqual(got, want, places=12)
        for got, want in zip(returns, [0.71712, 0.846, 1.0]):
            self.assertAlmostEqual(got, want, places=12)

    def test_lambda_one_gamma_one_is_monte_carlo(self):
        advantages, returns = alg.gae([0, 0, 1], [0.2, 0.4, 0.9], gamma=1.0, lam=1.0)
        self.assertEqual([round(r, 12) for r in returns], [1.0, 1.0, 1.0])
        self.assertAlmostEqual(advantages[0], 0.8, places=12)


class ClipAndKLTest(unittest.TestCase):
    def test_clip_fractions_on_constructed_ratios(self):
        ratios, advantages = [0.7, 0.9, 1.3, 1.1, 1.3, 0.7], [-1, -1, 1, -1, -1, 1]
        clips = [alg.clipped_surrogate(r, a, 0.2, 0.2)[2] for r, a in zip(ratios, advantages)]
        self.assertEqual([c.low for c in clips], [True, False, False, False, False, False])
        self.assertEqual([c.high for c in clips], [False, False, True, False, False, False])
        self.assertEqual(sum(c.region for c in clips), 2)

    def test_surrogate_value_and_gradient(self):
        # unclipped: rho 1.1, A 1 -> loss -1.1, dloss/dlogp = -A rho = -1.1
        self.assertEqual(alg.clipped_surrogate(1.1, 1.0, 0.2, 0.2)[:2], (-1.1, -1.1))
        # clipped high: rho 1.5, A 2 -> loss -(1.2 * 2), no gradient
        loss, grad, _ = alg.clipped_surrogate(1.5, 2.0, 0.2, 0.2)
        self.assertAlmostEqual(loss, -2.4)
        self.assertEqual(grad, 0.0)
        # asymmetric (DAPO): 1.25 is inside 1 + 0.28
        self.assertFalse(alg.clipped_surrogate(1.25, 1.0, 0.2, 0.28)[2].high)
        # a negative advantage with a large ratio is never clipped (pessimistic bound)
        self.assertEqual(alg.clipped_surrogate(1.5, -1.0, 0.2, 0.2)[:2], (1.5, 1.5))

    def test_k3_kl_is_nonnegative_and_zero_at_equality(self):
        self.assertEqual(alg.k3_kl(-1.0, -1.0), (0.0, 0.0))
        rng = random.Random(0)
        for _ in range(200):
            logp, ref = -rng.uniform(0, 8), -rng.uniform(0, 8)
            kl, grad = alg.k3_kl(logp, ref)
            self.assertGreaterEqual(kl, 0.0)
            h = 1e-6
            numeric = (alg.k3_kl(logp + h, ref)[0] - alg.k3_kl(logp - h, ref)[0]) / (2 * h)
            self.assertAlmostEqual(grad, numeric, places=5)

    def test_value_loss_clipping(self):
        # V moved from 0 to 0.5 with c = 0.2 and return 1: clipped V = 0.2 is worse -> clipped branch
        loss, grad, clipped = alg.value_loss(0.5, 0.0, 1.0, 0.2)
        self.assertTrue(clipped)
        self.assertAlmostEqual(loss, 0.5 * 0.64)
        self.assertEqual(grad, 0.0)  # V outside the band: the clipped value is constant
        loss, grad, clipped = alg.value_loss(0.1, 0.0, 1.0, 0.2)
        self.assertFalse(clipped)
        self.assertAlmostEqual(grad, -0.9)

    def test_token_weights_per_loss_type(self):
        self.assertEqual(alg.token_weights([2, 4], "grpo", 4), [1 / 4, 1 / 8])
        self.assertEqual(alg.token_weights([2, 4], "bnpo", 4), [1 / 6, 1 / 6])
        self.assertEqual(alg.token_weights([2, 4], "dapo", 4), [1 / 6, 1 / 6])
        self.assertEqual(alg.token_weights([2, 4], "dr_grpo", 4), [1 / 8, 1 / 8])

    def test_explained_variance(self):
        self.assertEqual(alg.explained_variance([1, 2, 3], [1, 2, 3]), 1.0)
        self.assertIsNone(alg.explained_variance([1, 2], [1, 1]))


class PolicyGradientTest(unittest.TestCase):
    def test_analytic_gradient_matches_finite_differences(self):
        policy = SoftmaxPolicy.initial(seed=3, correct_fraction=0.4, temperature=0.7)
        sample = Sample((1, 3))
        grad = policy.gradient([("t", sample, [1.0, 1.0])])
        h = 1e-6
        for name, options in DECISIONS:
            for index in range(len(options)):
                plus, minus = policy.copy(), policy.copy()
                plus.params.shared[name][index] += h
                minus.params.shared[name][index] -= h
                numeric = (sum(plus.token_logprobs("t", sample)) - sum(minus.token_logprobs("t", sample))) / (2 * h)
                self.assertAlmostEqual(grad.shared[name][index], numeric, places=6)
                self.assertAlmostEqual(grad.tasks["t"][name][index], numeric, places=6)

    def test_sampling_follows_the_softmax(self):
        policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.3)
        rng = random.Random(1)
        draws = [policy.sample("t", rng).plan for _ in range(20000)]
        self.assertAlmostEqual(draws.count("correct") / len(draws), policy.probability("t", "plan", "correct"),
                               delta=0.015)

    def test_checkpoint_round_trip_and_refusal(self):
        policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.3)
        policy.params.add_scaled(Params({n: [0.1] * len(o) for n, o in DECISIONS}, {"t": {n: [0.2] * len(o) for n, o in DECISIONS}}), 1.0)
        again = SoftmaxPolicy.from_json(policy.to_json())
        self.assertEqual(again.to_json(), policy.to_json())
        with self.assertRaisesRegex(ValueError, "not a smoke-policy checkpoint"):
            SoftmaxPolicy.from_json({"format": "other"})


def _batch(policy, reference, rewards, plans):
    batch = []
    for reward, plan in zip(rewards, plans):
        sample = Sample.from_names(plan, "fenced")
        batch.append(Completion("t", sample, reward, policy.token_logprobs("t", sample),
                                reference.token_logprobs("t", sample)))
    return batch


class UpdateTest(unittest.TestCase):
    def test_grpo_raises_the_rewarded_plan_and_iterations_move_ratios(self):
        policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.3)
        reference = policy.copy()
        before = policy.probability("t", "plan", "correct")
        config = GRPOConfig(model="mock", num_generations=4, num_iterations=3, learning_rate=5.0, beta=0.0)
        metrics = grpo_update(policy, _batch(policy, reference, [1, 0, 0, 0], ["correct", "prose", "mutated", "prose"]),
                              config)
        self.assertGreater(policy.probability("t", "plan", "correct"), before)
        self.assertGreater(policy.probability("u", "plan", "correct"), reference.probability("u", "plan", "correct"),
                           "shared logits: an unseen task moves too")
        self.assertGreater(metrics["clip_ratio/region_mean"], 0.0, "later iterations leave the trust region")
        self.assertGreater(metrics["kl"], 0.0)

    def test_zero_learning_rate_changes_nothing(self):
        policy = SoftmaxPolicy.initial(seed=0, correct_fraction=0.3)
        reference = policy.copy()
        config = RLOOConfig(model="mock", num_generations=2, learning_rate=0.0)
        rloo_update(policy, _batch(policy, reference, [1, 0], ["correct", "prose"]), config)
        self.assertEqual(policy.logprobs("t", "plan"), reference.logprobs("t", "plan"))


if __name__ == "__main__":
    unittest.main()
