import support  # noqa: F401

import unittest

from codeself.optional import require, require_packages


class RequireTest(unittest.TestCase):
    def test_present_module_is_returned(self):
        self.assertEqual(require("json", purpose="x").__name__, "json")

    def test_missing_module_gives_install_hint(self):
        with self.assertRaisesRegex(ValueError, r"the --backend hf needs .*codeself\[training\]"):
            require("codeself_no_such_module_xyz", purpose="the --backend hf")


    def test_require_packages_names_only_the_missing_ones(self):
        require_packages(("json",), purpose="x", hint="h")  # present: nothing raised
        with self.assertRaises(ValueError) as caught:
            require_packages(("json", "codeself_no_a", "codeself_no_b"), purpose="--backend hf", hint="pip install x",
                             separator=" and ")
        self.assertEqual(str(caught.exception), "--backend hf needs codeself_no_a and codeself_no_b: pip install x")


if __name__ == "__main__":
    unittest.main()
