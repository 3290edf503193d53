import support  # noqa: F401

import collections
import doctest
import math
import unittest

import test_codec

from codeself.datasets import snippets
from codeself.datasets.snippets import (
    MIN_LEAK_LITERAL_CHARS, contains_nan, expected_literal, infer_entry_point, leak_reason,
    python_source, rename_name, snippet_key, squash_whitespace,
)


class SnippetKeyTest(unittest.TestCase):
    def test_spacing_and_quotes_do_not_matter(self):
        self.assertEqual(snippet_key("assert f( 'a' )==[1,2]"), snippet_key('assert f("a") == [1, 2]'))

    def test_different_values_differ(self):
        self.assertNotEqual(snippet_key("assert f(1) == 2"), snippet_key("assert f(1) == 3"))

    def test_unparseable_falls_back_to_squashed_text(self):
        self.assertEqual(snippet_key("assert f(1) = 2"), "assertf(1)=2")


class EntryPointTest(unittest.TestCase):
    def test_prefers_a_name_the_solution_defines(self):
        # `set` and `sorted` are called first, but only `common` is defined by the solution.
        tests = ["assert set(sorted(common([1], [1]))) == {1}"]
        self.assertEqual(infer_entry_point(tests, ["helper", "common"]), "common")

    def test_falls_back_to_first_non_builtin_call(self):
        self.assertEqual(infer_entry_point(["assert math.isclose(area(2), 4.0)"], []), "area")

    def test_no_user_call_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "entry point"):
            infer_entry_point(["assert len([1]) == 1"], [])


class ExpectedLiteralTest(unittest.TestCase):
    def test_right_and_left_side(self):
        self.assertEqual(expected_literal("assert f(x) == [3, 2]"), "[3, 2]")
        self.assertEqual(expected_literal("assert 'ab' == f(x)"), "'ab'")

    def test_no_literal(self):
        self.assertIsNone(expected_literal("assert f(x) == g(x)"))
        self.assertIsNone(expected_literal("assert f(x)"))
        self.assertIsNone(expected_literal("assert f(x) < 3"))


class RenameTest(unittest.TestCase):
    def test_renames_names_but_not_strings_or_attributes_prefixes(self):
        source = "assert candidate('candidate') == candidates + candidate(1)"
        self.assertEqual(rename_name(source, "candidate", "f"), "assert f('candidate') == candidates + f(1)")


class PythonSourceTest(unittest.TestCase):
    def check_round_trip(self, value, expected_source):
        source = python_source(value)
        self.assertEqual(source, expected_source)
        self.assertTrue(test_codec.same(eval(source, {}), value))  # noqa: S307 - our own literal

    def test_every_codec_value_round_trips_with_types(self):
        # the codec's values cover nan, -0.0, lone surrogates, 10**5000, nested sets and dicts
        for value in test_codec.RoundTripTest.VALUES:
            with self.subTest(kind=type(value).__name__):
                self.assertTrue(test_codec.same(eval(python_source(value), {}), value))  # noqa: S307

    def test_plain_values_are_repr(self):
        self.check_round_trip([1, "a", None, True, b"x", -0.0], "[1, 'a', None, True, b'x', -0.0]")
        self.check_round_trip(2**64, "18446744073709551616")  # past 64 bits, still decimal

    def test_non_literal_reprs(self):
        self.check_round_trip(float("inf"), "float('inf')")
        self.check_round_trip([float("-inf")], "[float('-inf')]")
        self.check_round_trip(set(), "set()")
        self.check_round_trip(frozenset(), "frozenset()")
        self.check_round_trip(frozenset({2, 1}), "frozenset({1, 2})")
        self.check_round_trip(complex(1, -2), "complex(1.0, -2.0)")
        self.check_round_trip(complex(float("nan"), -0.0), "complex(float('nan'), -0.0)")
        self.check_round_trip((5,), "(5,)")
        self.check_round_trip(((5,),), "((5,),)")
        self.check_round_trip({(1, 2): {3}}, "{(1, 2): {3}}")

    def test_set_elements_are_sorted_by_their_text(self):
        # "'a'" < "'b'" < "'c'" whatever the string-hash order; "10" sorts before "9" as text
        self.check_round_trip({"c", "a", "b"}, "{'a', 'b', 'c'}")
        self.check_round_trip({9, 10}, "{10, 9}")
        self.check_round_trip({frozenset({"y", "x"}), frozenset()}, "{frozenset(), frozenset({'x', 'y'})}")

    def test_ints_past_the_decimal_digit_limit_are_hex(self):
        # 10**4300 has 4,301 digits: one past the default limit, so repr() would raise
        self.check_round_trip(10**4300 - 1, repr(10**4300 - 1))
        self.check_round_trip(-16**4000, "-0x1" + "0" * 4000)
        self.check_round_trip([10**4300], "[" + hex(10**4300) + "]")

    def test_nan_is_written_but_flagged(self):
        self.assertEqual(python_source(float("nan")), "float('nan')")
        self.assertTrue(math.isnan(eval(python_source(float("nan")))))
        self.assertTrue(contains_nan([1, (2, float("nan"))]))
        self.assertFalse(contains_nan([1.0, float("inf")]))

    def test_other_types_are_refused(self):
        # a Counter written as a dict literal would come back as a dict: a different type
        with self.assertRaisesRegex(ValueError, "Counter"):
            python_source(collections.Counter("ab"))
        with self.assertRaisesRegex(ValueError, "MyInt"):
            python_source([type("MyInt", (int,), {})(3)])

    def test_docstring_examples(self):
        self.assertEqual(doctest.testmod(snippets).failed, 0)


class LeakReasonTest(unittest.TestCase):
    def test_test_text_in_prompt_whatever_the_spacing(self):
        self.assertEqual(leak_reason("assert f(1) == 2", "Example:  f( 1 )==2"), "its text appears")

    def test_long_literal_counts_short_does_not(self):
        self.assertEqual(MIN_LEAK_LITERAL_CHARS, 8)
        # "[10,20,30]" squashed is 10 characters >= 8: a leak.
        self.assertIn("expected value", leak_reason("assert f(9) == [10, 20, 30]", "gives [10, 20, 30]"))
        # "True" is 4 characters: appearing in the prompt is no evidence.
        self.assertIsNone(leak_reason("assert f(9) == True", "returns True when ..."))

    def test_squash(self):
        self.assertEqual(squash_whitespace(" a \t b\n c "), "abc")


if __name__ == "__main__":
    unittest.main()
