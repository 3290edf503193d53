"""SVG charts: well-formed XML, data visible, labels escaped, byte-deterministic."""

import unittest
import xml.etree.ElementTree as ET

import support  # noqa: F401

from codeself.reporting import svg

NS = "{http://www.w3.org/2000/svg}"


def parse(text):
    root = ET.fromstring(text)
    assert root.tag == f"{NS}svg", root.tag
    return root


def texts(root):
    return [element.text for element in root.iter() if element.text]


class LineChartTest(unittest.TestCase):
    def test_points_and_labels(self):
        text = svg.line_chart({"overall": [(1, 0.42), (2, 0.55), (4, 0.7)], "test <split>": [(1, 0.3)]},
                              title="pass@k", x_label="k", y_label="pass@k",
                              intervals={"overall": [(1, 0.35, 0.49)]}, y_min=0, y_max=1)
        root = parse(text)
        circles = list(root.iter(f"{NS}circle"))
        self.assertEqual(len(circles), 4)
        self.assertIn("overall: (2, 0.55)", texts(root))
        self.assertIn("test <split>", texts(root))  # escaped in the text, intact after parsing
        self.assertIn("test &lt;split&gt;", text)
        self.assertEqual(len(list(root.iter(f"{NS}polyline"))), 2)
        # the y axis spans the requested 0..1
        self.assertIn("0", texts(root))
        self.assertIn("1", texts(root))
        self.assertEqual(text, svg.line_chart({"overall": [(1, 0.42), (2, 0.55), (4, 0.7)],
                                               "test <split>": [(1, 0.3)]},
                                              title="pass@k", x_label="k", y_label="pass@k",
                                              intervals={"overall": [(1, 0.35, 0.49)]}, y_min=0, y_max=1))

    def test_empty_and_bad(self):
        self.assertIn("no data", texts(parse(svg.line_chart({}, title="t"))))
        with self.assertRaises(ValueError):
            svg.line_chart({"a": [(1, float("nan"))]}, title="t")


class BarAndHistogramTest(unittest.TestCase):
    def test_bar_chart(self):
        root = parse(svg.bar_chart(["passed", "failed", "timeout & co"], [5, 3, 0], title="Status"))
        labels = texts(root)
        for expected in ("passed", "failed", "timeout & co", "5", "3", "Status"):
            self.assertIn(expected, labels)
        self.assertEqual(len([r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]), 3)
        with self.assertRaises(ValueError):
            svg.bar_chart(["a"], [1, 2], title="t")

    def test_long_labels_slant(self):
        # 10 bars over ~550 px: 55 px per slot; "sandbox_error" (13 chars ~ 78 px) must slant
        labels = [f"label_{i}" if i else "sandbox_error" for i in range(10)]
        root = parse(svg.bar_chart(labels, list(range(10)), title="t"))
        label = next(e for e in root.iter(f"{NS}text") if e.text == "sandbox_error")
        self.assertTrue(label.get("transform", "").startswith("rotate(-30"))
        short = next(e for e in parse(svg.bar_chart(["ok"], [1], title="t")).iter(f"{NS}text") if e.text == "ok")
        self.assertIsNone(short.get("transform"))

    def test_histogram_counts(self):
        # 0.0, 0.1 -> bin [0, 0.5); 0.5, 0.9, 1.0 -> bin [0.5, 1.0] (last bin closed)
        root = parse(svg.histogram([0.0, 0.1, 0.5, 0.9, 1.0], title="Reward", bins=2, value_range=(0.0, 1.0)))
        tooltips = [r.find(f"{NS}title").text for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
        self.assertEqual(tooltips, ["[0, 0.5): 2", "[0.5, 1): 3"])
        with self.assertRaises(ValueError):
            svg.histogram([1.0], title="t", bins=0)

    def test_nice_ticks(self):
        self.assertEqual(svg.nice_ticks(0, 1), [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
        self.assertEqual(svg.nice_ticks(0, 7), [0.0, 2.0, 4.0, 6.0, 8.0])


class OutcomeGridTest(unittest.TestCase):
    def test_cells_and_legend(self):
        outcomes = [("Mbpp/1", "both_pass"), ("Mbpp/2", "candidate_only"), ("Mbpp/3", "baseline_only"),
                    ("Mbpp/<4>", "both_fail"), ("Mbpp/5", "candidate_only")]
        text = svg.outcome_grid(outcomes, title="Per-task outcomes")
        root = parse(text)
        cells = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
        self.assertEqual(len(cells), 5)
        self.assertEqual(cells[3].find(f"{NS}title").text, "Mbpp/<4>: both fail")
        self.assertEqual(cells[1].get("fill"), svg.OUTCOME_COLOURS["candidate_only"])
        self.assertIn("only candidate passes (2)", texts(root))
        self.assertEqual(text, svg.outcome_grid(outcomes, title="Per-task outcomes"))
        with self.assertRaises(ValueError):
            svg.outcome_grid([("x", "improved")], title="t")


if __name__ == "__main__":
    unittest.main()
