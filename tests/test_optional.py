import support  # noqa: F401

import unittest

from codeself.optional import require


class RequireTest(unittest.TestCase):
    def test_present_module_is_returned(self):
        self.assertEqual(require("json", purpose="x").__name__, "json")

    def test_missing_module_gives_install_hint(self):
        with self.assertRaisesRegex(ValueError, r"the --backend hf needs .*codeself\[training\]"):
            require("codeself_no_such_module_xyz", purpose="the --backend hf")


if __name__ == "__main__":
    unittest.main()
