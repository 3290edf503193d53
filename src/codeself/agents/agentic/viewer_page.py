"""The HTML page of `viewer.render_html`: inline CSS and JavaScript, no external resource.

`__TITLE__` (HTML-escaped) and `__DATA__` (`viewer.script_json`) are filled in. The script reads
the data with `JSON.parse(textContent)` and builds the DOM with `createElement` and text nodes
only. Element ids and classes are part of the contract with tests/test_agentic_viewer.py:
`#f-status`, `#f-transition`, `#f-category`, `#f-task`, `#shown-count`, rows `tr.episode`,
`#detail` with `section.turn`, `table.grid` cells `td.pass` / `td.fail`, `pre.diff`. Filters can be
preset from the URL fragment: `#status=failed&transition=i→c&category=timeout&task=mbpp/1`.
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>__TITLE__</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #24292f; color: #fff; padding: 8px 16px; }
header h1 { font-size: 18px; margin: 0; display: inline; }
#filters { padding: 8px 16px; background: #f3f4f6; border-bottom: 1px solid #ddd; }
#filters label { margin-right: 14px; font-size: 13px; }
main { display: flex; height: calc(100vh - 90px); }
#list { width: 44%; overflow: auto; border-right: 1px solid #ddd; }
#detail { flex: 1; overflow: auto; padding: 8px 16px; }
table { border-collapse: collapse; font-size: 13px; }
#episodes { width: 100%; }
#episodes th, #episodes td { padding: 3px 6px; border-bottom: 1px solid #eee; text-align: left; }
tr.episode { cursor: pointer; }
tr.episode:hover { background: #eef4ff; }
tr.episode.selected { background: #dbe8ff; }
.ok { color: #1a7f37; font-weight: bold; } .bad { color: #cf222e; font-weight: bold; }
pre { background: #f6f8fa; padding: 8px; overflow: auto; font-size: 12px; white-space: pre-wrap; word-break: break-word; }
pre.diff span.add { color: #1a7f37; } pre.diff span.del { color: #cf222e; } pre.diff span.hunk { color: #8250df; }
section.turn { border-top: 2px solid #ddd; margin-top: 12px; }
table.grid td { border: 1px solid #ccc; padding: 2px 6px; text-align: center; }
td.pass { background: #d1f0d9; } td.fail { background: #f8d3d3; }
.meta { font-size: 13px; color: #555; }
.role { font-weight: bold; font-size: 12px; text-transform: uppercase; color: #555; }
</style>
</head>
<body>
<header><h1>__TITLE__</h1> <span id="shown-count"></span></header>
<div id="filters">
<label>final <select id="f-status"><option value="">all</option><option value="passed">passed</option><option value="failed">failed</option></select></label>
<label>first → final <select id="f-transition"><option value="">all</option><option>i→c</option><option>c→i</option><option>i→i</option><option>c→c</option></select></label>
<label>first-attempt category <select id="f-category"><option value="">all</option></select></label>
<label>task <input id="f-task" type="search" placeholder="task id contains"></label>
</div>
<main><div id="list"><table id="episodes"><thead><tr><th>task</th><th>#</th><th>mode</th><th>turns</th><th>final</th><th>first → final</th><th>first category</th><th>return</th></tr></thead><tbody></tbody></table></div>
<div id="detail"><p class="meta">Select an episode.</p></div></main>
<script type="application/json" id="trace-data">__DATA__</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("trace-data").textContent);
function el(tag, cls, ...children) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  for (const child of children) node.append(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}
function pre(text, cls) { return el("pre", cls || "", text == null ? "" : String(text)); }
function diffBlock(text) {
  const block = el("pre", "diff");
  for (const line of text.split("\\n")) {
    const kind = line.startsWith("@@") ? "hunk" : line.startsWith("+") && !line.startsWith("+++") ? "add"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
    block.append(el("span", kind, line + "\\n"));
  }
  return block;
}
function grid(turn) {
  const table = el("table", "grid"), head = el("tr", ""), row = el("tr", "");
  for (const [kind, tests] of [["P", turn.public_tests], ["H", turn.hidden_tests]]) {
    for (const test of tests) {
      head.append(el("th", "", kind + (test.index + 1)));
      const cell = el("td", test.passed ? "pass" : "fail", test.passed ? "pass" : (test.error_type || "fail"));
      cell.title = (kind === "P" ? "public " : "hidden ") + "test " + (test.index + 1) + (test.message ? ": " + test.message : "");
      row.append(cell);
    }
  }
  table.append(head, row);
  return table;
}
function messages(list) {
  const box = el("div", "");
  for (const message of list) box.append(el("div", "role", message.role), pre(message.content));
  return box;
}
function showEpisode(index) {
  const episode = DATA[index], detail = document.getElementById("detail");
  detail.replaceChildren();
  for (const row of document.querySelectorAll("tr.episode")) row.classList.toggle("selected", row.dataset.index === String(index));
  detail.append(el("h2", "", episode.task_id + " — sample " + episode.sample_index + " (" + episode.mode + ")"),
    el("p", "meta", "final " + (episode.final.passed ? "passed" : "failed") + " (" + episode.final.status + "), " +
      episode.turns_used + " turn(s), stopped by " + episode.stop_reason + ", transition " + episode.transition +
      ", return " + episode.reward.return.toFixed(3) + " (" + episode.reward.name + "), backend " + episode.backend),
    el("h3", "", "Prompt"), messages(episode.prompt));
  if (episode.start) detail.append(el("h3", "", "Starting program (" + episode.start.mutation + ")"), pre(episode.start.code));
  for (const turn of episode.turns) {
    const section = el("section", "turn", el("h3", "", "Turn " + turn.turn));
    const facts = "parse " + turn.parse_status + "; execution " + turn.execution.status + "; r_t " + turn.progress.toFixed(3) +
      "; reward " + turn.reward.toFixed(3) + (turn.identical_to_previous ? "; identical to the previous program" : "") +
      (turn.metadata.mock_intent ? "; mock intent " + turn.metadata.mock_intent : "");
    section.append(el("p", "meta", facts));
    if (turn.turn > 1) section.append(el("div", "role", "shown"), messages(turn.shown));
    section.append(el("div", "role", "reply"), pre(turn.completion));
    if (turn.diff) section.append(el("div", "role", "diff"), diffBlock(turn.diff));
    section.append(el("div", "role", "tests (P public, H hidden)"), grid(turn));
    if (turn.feedback) section.append(el("div", "role", "feedback"), pre(turn.feedback, "feedback"));
    detail.append(section);
  }
}
function matches(episode) {
  const status = document.getElementById("f-status").value, move = document.getElementById("f-transition").value;
  const category = document.getElementById("f-category").value, task = document.getElementById("f-task").value;
  return (!status || (episode.final.passed ? "passed" : "failed") === status) && (!move || episode.transition === move) &&
    (!category || episode.first_error_category === category) && (!task || episode.task_id.includes(task));
}
function renderList() {
  const body = document.querySelector("#episodes tbody");
  body.replaceChildren();
  let shown = 0;
  DATA.forEach((episode, index) => {
    if (!matches(episode)) return;
    shown += 1;
    const row = el("tr", "episode", el("td", "", episode.task_id), el("td", "", String(episode.sample_index)),
      el("td", "", episode.mode), el("td", "", String(episode.turns_used)),
      el("td", episode.final.passed ? "ok" : "bad", episode.final.passed ? "passed" : "failed"),
      el("td", "", episode.transition), el("td", "", episode.first_error_category),
      el("td", "", episode.reward.return.toFixed(3)));
    row.dataset.index = String(index);
    row.addEventListener("click", () => showEpisode(index));
    body.append(row);
  });
  document.getElementById("shown-count").textContent = shown + " of " + DATA.length + " episodes";
}
const categories = [...new Set(DATA.map(e => e.first_error_category))].sort();
for (const category of categories) document.getElementById("f-category").append(el("option", "", category));
const FILTERS = {status: "f-status", transition: "f-transition", category: "f-category", task: "f-task"};
const preset = new URLSearchParams(location.hash.slice(1));  // e.g. #status=failed&transition=i→c
for (const [name, id] of Object.entries(FILTERS)) {
  if (preset.has(name)) document.getElementById(id).value = preset.get(name);
  document.getElementById(id).addEventListener("input", renderList);
}
renderList();
const first = document.querySelector("tr.episode");
if (first) showEpisode(Number(first.dataset.index));
</script>
</body>
</html>
"""
