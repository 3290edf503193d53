"""view_agent_trace.py: Markdown and self-contained HTML, escaping, and a real headless browser."""

import support

import json
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from codeself.agents.agentic.trace import read_traces
from codeself.agents.agentic.viewer import render_html, script_json

EXAMPLES = support.REPO_ROOT / "configs" / "datasets" / "tasks.example.jsonl"
HOSTILE = "</script><img src=x onerror=\"document.title='pwned'\">\u2028\u2029<!--"
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")


def make_traces(tmp: str) -> Path:
    """24 mock repair episodes of the example tasks, plus one replayed episode with a hostile reply."""
    out = Path(tmp, "traces.jsonl")
    done = support.run_script("run_agentic.py", "--tasks", EXAMPLES, "--trace-output", out, "--backend", "mock",
                              "--mode", "repair", "--samples-per-task", "3", "--max-revisions", "2",
                              "--no-stop-when-public-pass", "--workers", "1", "--quiet", *support.FAST_TIMEOUTS)
    assert done.returncode == 0, done.stderr
    turns, hostile = Path(tmp, "turns.jsonl"), Path(tmp, "hostile.jsonl")
    turns.write_text(json.dumps({"task_id": "example/digit_sum", "turns": [HOSTILE]}) + "\n")
    done = support.run_script("run_agentic.py", "--tasks", EXAMPLES, "--trace-output", hostile, "--backend", "static",
                              "--completions", turns, "--max-revisions", "0", "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    with open(out, "a", encoding="utf-8") as handle:
        handle.write(hostile.read_text(encoding="utf-8"))
    return out


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ViewerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.traces = make_traces(cls.tmp.name)
        cls.html = Path(cls.tmp.name, "traces.html")
        done = support.run_script("view_agent_trace.py", "--traces", cls.traces, "--output", cls.html)
        assert done.returncode == 0, done.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_markdown_for_chosen_tasks(self):
        out = Path(self.tmp.name, "one.md")
        done = support.run_script("view_agent_trace.py", "--traces", self.traces, "--output", out,
                                  "--task-id", "example/gcd_of_list", "--limit", "2")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("wrote 2 episode(s)", done.stdout)
        text = out.read_text(encoding="utf-8")
        self.assertEqual(text.count("## example/gcd_of_list — sample"), 2)
        for part in ("### Prompt", "### Starting program", "### Turn 1", "Diff from the previous program",
                     "Tests (P = public, H = hidden)", "| P1 ", "Feedback:"):
            self.assertIn(part, text)

    def test_html_is_self_contained_and_escaped(self):
        page = self.html.read_text(encoding="utf-8")
        self.assertEqual(page.count("</script>"), 2)  # the data element's and the code's own: nothing injected
        self.assertNotIn("\u2028", page)
        self.assertNotIn("\u2029", page)
        self.assertIsNone(re.search(r"(src|href)=\"?(https?:)?//", page))  # no network resource
        self.assertEqual(script_json("</script>\u2028&"), '"\\u003c/script\\u003e\\u2028\\u0026"')
        data = page.split('id="trace-data">', 1)[1].split("</script>", 1)[0]
        self.assertEqual(len(json.loads(data)), 25)
        self.assertIn("Agent &lt;b&gt;", render_html(list(read_traces(self.traces))[:1], "Agent <b>"))

    def test_bad_input(self):
        for args, message in [(("--traces", EXAMPLES, "--output", Path(self.tmp.name, "x.md")), "not an agentic trace record"),
                              (("--traces", self.traces, "--output", Path(self.tmp.name, "x.txt")), "end it in .md or .html"),
                              (("--traces", self.traces, "--output", Path(self.tmp.name, "x.md"), "--task-id", "nope"),
                               "no episodes for task(s) nope")]:
            # the first in a real process, the others (refused before any work) in this one
            done = (support.run_script if "not an agentic" in message else support.refusal)("view_agent_trace.py", *args)
            self.assertEqual(done.returncode, 2)
            self.assertIn(message, done.stderr)
            self.assertEqual(len(done.stderr.strip().splitlines()), 1)

    def browser(self, *args: str) -> subprocess.CompletedProcess:
        if chromium() is None:
            self.skipTest("chromium is not installed (Debian: apt-get install chromium); headless check skipped")
        profile = tempfile.mkdtemp(dir=self.tmp.name)
        return subprocess.run([chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)

    def test_renders_in_a_headless_browser(self):
        dom = self.browser("--dump-dom", self.html.as_uri()).stdout
        self.assertEqual(dom.count('<tr class="episode'), 25)
        for part in ("25 of 25 episodes", '<section class="turn">', '<td class="pass"', '<td class="fail"',
                     '<pre class="diff">', "<option>wrong_answer</option>", "Starting program"):
            self.assertTrue(part in dom, part)

    def test_a_hostile_reply_shows_as_text(self):
        dom = self.browser("--dump-dom", self.html.as_uri() + "#category=no_code&task=digit_sum").stdout
        self.assertTrue("&lt;/script&gt;&lt;img src=x onerror=" in dom, "the hostile reply is not shown as text")
        self.assertFalse("pwned</title>" in dom, "the hostile reply ran")
        self.assertEqual(dom.count("<img"), 0)

    def test_filters_from_the_url_fragment(self):
        dom = self.browser("--dump-dom", self.html.as_uri() + "#status=passed&task=gcd").stdout
        rows = re.findall(r'<tr class="episode[^>]*>(.*?)</tr>', dom)
        self.assertTrue(rows)
        for row in rows:
            self.assertIn("example/gcd_of_list", row)
            self.assertIn("passed", row)
        self.assertIn(f"{len(rows)} of 25 episodes", dom)

    def test_screenshot(self):
        shot = Path(self.tmp.name, "shot.png")
        self.browser("--window-size=1400,900", f"--screenshot={shot}", self.html.as_uri())
        self.assertTrue(shot.is_file() and shot.stat().st_size > 10_000)


if __name__ == "__main__":
    unittest.main()
