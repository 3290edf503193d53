#!/usr/bin/env bash
# Turn what run.sh has produced (outputs/real_run_sc/) into the committed reports of this folder.
# Partial-friendly: a run not produced yet is skipped, so it can be rerun after every step. Traces are
# also kept gzipped in traces/ (the evaluations take hours on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/../../.."
E=docs/experiments/2026-12-07-self-correction
O=outputs/real_run_sc
R=$E/reports
EVAL=data/processed/generated_v2.heldout_sc.jsonl
mkdir -p $R $E/traces

# 1. Self-correction: every (model, feedback) trace file, compared paired (codeself.reporting.self_correction).
# (a trace file still being written holds fewer episodes than the evaluation set: left out until complete)
tasks=$(wc -l < $EVAL)
runs=()
for row in base single multi; do for fb in tests generic none; do
    [[ -s $O/$row.$fb.jsonl && $(wc -l < $O/$row.$fb.jsonl) -eq $tasks ]] && runs+=(--run "$row=$O/$row.$fb.jsonl")
done; done
if (( ${#runs[@]} )); then
    python3 scripts/compare_self_correction.py --tasks $EVAL "${runs[@]}" --title "Self-correction on 72 held-out-family tasks" \
        --output $R/self_correction.md --json-output $R/self_correction.json --quiet
fi

# 2. Practice: the multi-turn run's steps beside the single-turn run it is compared with (same train split).
python3 - $O/cocos/metrics.jsonl outputs/real_run_v2/grpo_v1/metrics.jsonl $R/practice.md <<'PY'
import json, sys
from pathlib import Path
multi, single, out = (Path(p) for p in sys.argv[1:])
def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
m, s = rows(multi), rows(single)
def f(v, digits=3):
    return "–" if v is None else (f"{v:.{digits}f}" if isinstance(v, float) else str(v))
lines = ["# Practice runs", "",
         "Multi-turn: configs/cocos.toml (two-turn episodes, CoCoS reward, GRPO, 16 episodes a step). Single-turn: the v1",
         "recipe of docs/experiments/2026-12-07-practice-v2 (16 answers a step). Both on generated v2's train split;",
         "`turns/pass_rate` is the share of the step's episodes whose turn-k program passed every test.", "",
         "| step | reward (CoCoS return) | turn-1 pass | turn-2 pass | fix rate | regression rate | identical | entropy | step s | validation (turn-1 pass@1, greedy) |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for r in m:
    t = r.get("turns/pass_rate") or [None, None]
    lines.append(f"| {r['step']} | {f(r.get('reward'))} | {f(t[0])} | {f(t[-1])} | {f(r.get('turns/fix_rate'))} | "
                 f"{f(r.get('turns/regression_rate'))} | {f(r.get('turns/identical_rate'))} | {f(r.get('entropy'))} | "
                 f"{r['timing']['step_s']:.0f} | {f(r.get('validation/pass_rate'))} |")
def totals(records, turns_per_sample):
    if not records:
        return "not run"
    wall = records[-1]["timing"]["elapsed_s"] / 60
    samples = records[-1]["samples"]
    return (f"{len(records)} steps, {samples} samples = {samples * turns_per_sample} generated turns, "
            f"{wall:.0f} min wall on the shared 2-core machine")
lines += ["", f"- multi-turn: {totals(m, 2)}", f"- single-turn: {totals(s, 1)}"]
if m:
    first = [r["turns/pass_rate"] for r in m[:4]]
    last = [r["turns/pass_rate"] for r in m[-4:]]
    mean = lambda xs, k: sum(x[k] for x in xs) / len(xs)
    lines.append(f"- turn-1 / turn-2 pass over the first 4 steps: {mean(first, 0):.3f} / {mean(first, 1):.3f}; "
                 f"last 4 steps: {mean(last, 0):.3f} / {mean(last, 1):.3f}")
out.write_text("\n".join(lines) + "\n")
PY

# 3. Hidden tests in the practice episodes' model input (the canary check on the practice rollouts).
if [[ -s $O/cocos/rollouts.jsonl ]]; then
    python3 - $O/cocos/rollouts.jsonl data/processed/generated_v2.codeself.jsonl $R/practice_canary.txt <<'PY'
import json, sys
sys.path.insert(0, "src")
from codeself.datasets.task import load_tasks
from codeself.reporting.self_correction import hidden_tests_in_input
tasks = {t.task_id: t for t in load_tasks(sys.argv[2])}
records = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
found = sum(len(hidden_tests_in_input(r, tasks[r["task_id"]])) for r in records)
text = f"practice episodes checked: {len(records)}; hidden tests found in model input: {found}\n"
open(sys.argv[3], "w").write(text)
print(text, end="")
PY
fi

# 4. A sample of episodes in the self-contained HTML viewer: the tasks where any model's turn 2 differs
#    from its turn 1 under test feedback (fixes and regressions, up to 6) and two unchanged failures,
#    one page per model on the same tasks.
if [[ -s $O/multi.tests.jsonl ]]; then
    mapfile -t picked < <(python3 - $O/{base,single,multi}.tests.jsonl <<'PY'
import json, sys
changed, same = [], []
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        r = json.loads(line)
        a, b = (t["execution"]["status"] == "passed" for t in r["turns"])
        (changed if a != b else same).append(r["task_id"])
changed = list(dict.fromkeys(changed))[:6]
for task_id in changed + [t for t in dict.fromkeys(same) if t not in changed][:2]:
    print(task_id)
PY
)
    ids=(); for t in "${picked[@]}"; do ids+=(--task-id "$t"); done
    for row in base single multi; do
        [[ -s $O/$row.tests.jsonl ]] && python3 scripts/view_agent_trace.py --traces $O/$row.tests.jsonl "${ids[@]}" \
            --title "$row model, test feedback: sample episodes" --output $R/episodes.$row.tests.html
    done
fi

# 5. The traces, gzipped (deterministic: no timestamp in the gzip header).
for f in $O/{base,single,multi}.{tests,generic,none}.jsonl; do
    [[ -s $f ]] && gzip -n -c "$f" > $E/traces/$(basename "$f").gz && cp "$f.config.json" $E/traces/
done
[[ -s $O/cocos/rollouts.jsonl ]] && gzip -n -c $O/cocos/rollouts.jsonl > $E/traces/practice.cocos.rollouts.jsonl.gz \
    && cp $O/cocos/metrics.jsonl $E/traces/practice.cocos.metrics.jsonl && cp $O/cocos/config.json $E/traces/practice.cocos.config.json \
    && cp $O/cocos/best_checkpoint.json $E/traces/practice.cocos.best_checkpoint.json
echo "reports in $R"
