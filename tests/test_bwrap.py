"""The optional bubblewrap sandbox: its command line, and a clear error without bwrap.

The hostile programs run under bwrap in tests/test_hostile.py (HostileBwrapTest).
"""

import support

import os
import sys
import unittest
from unittest import mock

from codeself.execution import ExecutionConfig, Executor
from codeself.execution import bwrap


class BwrapCommandTest(unittest.TestCase):
    def test_missing_bwrap_is_one_clear_error(self):
        with mock.patch.object(bwrap.shutil, "which", return_value=None):
            with self.assertRaisesRegex(ValueError, "needs bubblewrap.*apt-get install bubblewrap"):
                Executor(ExecutionConfig(workers=1, sandbox="bwrap"))

    def test_view_is_read_only_and_minimal(self):
        with mock.patch.object(bwrap.shutil, "which", return_value="/usr/bin/bwrap"):
            command = bwrap.bwrap_command(str(support.REPO_ROOT / "src/codeself/execution/worker.py"), [])
        self.assertEqual(command[0], "/usr/bin/bwrap")
        for flag in ("--unshare-all", "--unshare-user", "--new-session", "--cap-drop"):
            self.assertIn(flag, command)
        self.assertNotIn("--die-with-parent", command)  # fires on thread exit, see bwrap.py
        self.assertEqual(command[command.index("--uid") + 1], "65534")
        binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]
        self.assertIn(sys.base_prefix, binds)
        self.assertIn(str(support.REPO_ROOT / "src"), binds)
        self.assertNotIn("/", binds)
        self.assertFalse(any(arg == "--bind" for arg in command))  # nothing writable from the host
        if os.path.islink("/lib"):
            self.assertIn(["--symlink", os.readlink("/lib"), "/lib"],
                          [command[i:i + 3] for i in range(len(command))])


if __name__ == "__main__":
    unittest.main()
