"""AUROC and Cohen's kappa (codeself.reporting.agreement) on worked literal cases."""

import doctest
import unittest

import support  # noqa: F401

from codeself.reporting import agreement
from codeself.reporting.agreement import auroc, cohen_kappa


class AurocTest(unittest.TestCase):
    def test_perfect_reversed_and_tied_rankings(self):
        self.assertEqual(auroc([0.9, 0.8, 0.2, 0.1], [True, True, False, False]), 1.0)
        self.assertEqual(auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]), 0.0)
        self.assertEqual(auroc([0.5, 0.5, 0.5], [True, False, False]), 0.5)  # all ties: 1/2 per pair

    def test_ties_across_classes_count_one_half(self):
        # positives 0.75, 0.75, 0.75; negatives 0.25, 0.75: per positive 1 + 0.5, total 4.5 of 6 pairs
        self.assertAlmostEqual(auroc([0.75, 0.75, 0.75, 0.25, 0.75], [True, True, True, False, False]), 0.75)
        # input order does not matter
        self.assertAlmostEqual(auroc([0.25, 0.75, 0.75, 0.75, 0.75], [False, True, False, True, True]), 0.75)

    def test_undefined_without_both_classes(self):
        self.assertIsNone(auroc([0.1, 0.9], [True, True]))
        self.assertIsNone(auroc([], []))
        with self.assertRaisesRegex(ValueError, "2 scores but 1 labels"):
            auroc([0.1, 0.2], [True])


class CohenKappaTest(unittest.TestCase):
    def test_worked_values(self):
        self.assertEqual(cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]), 1.0)
        self.assertEqual(cohen_kappa([1, 0, 1, 0], [0, 1, 0, 1]), -1.0)
        # predicted T T T F T against T T T F F: p_o = 4/5, p_e = 4/5*3/5 + 1/5*2/5 = 14/25 -> 6/11
        self.assertAlmostEqual(cohen_kappa([True, True, True, False, True], [True, True, True, False, False]), 6 / 11)

    def test_chance_level_is_zero_and_degenerate_is_none(self):
        # independent marginals 1/2 each: p_o = 1/2 = p_e
        self.assertEqual(cohen_kappa([1, 1, 0, 0], [1, 0, 1, 0]), 0.0)
        self.assertIsNone(cohen_kappa([1, 1], [1, 1]))  # p_e = 1
        self.assertIsNone(cohen_kappa([], []))
        with self.assertRaisesRegex(ValueError, "1 labels against 2"):
            cohen_kappa([1], [1, 0])

    def test_docstring_examples(self):
        self.assertEqual(doctest.testmod(agreement).failed, 0)


if __name__ == "__main__":
    unittest.main()
