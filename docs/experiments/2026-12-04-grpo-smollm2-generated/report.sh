#!/usr/bin/env bash
# Turn the outputs of run.sh (outputs/real_run/) into the committed report files of this folder.
set -euo pipefail
cd "$(dirname "$0")/../../.."
E=docs/experiments/2026-12-04-grpo-smollm2-generated
O=outputs/real_run
mkdir -p $E/reports
for split in test test_heldout_families mbpp_test; do
    case $split in mbpp_test) name=mbpp_test; s=test ;; *) name=$split; s=$split ;; esac
    python3 scripts/compare_final.py --baseline $O/base.$name.jsonl --candidate $O/practised.$name.jsonl \
        --split $s --output $E/reports/compare.$name.md --json-output $E/reports/compare.$name.json --quiet
    for who in base practised; do
        python3 scripts/evaluate_rollouts.py --rollouts $O/$who.$name.jsonl --output $E/reports/eval.$who.$name.md \
            --json-output $E/reports/eval.$who.$name.json --quiet
    done
    python3 scripts/analyze_errors.py --rollouts $O/base.$name.jsonl $O/practised.$name.jsonl \
        --output $E/reports/errors.$name.md --json-output $E/reports/errors.$name.json --quiet
    python3 $E/form_stats.py $O/base.$name.jsonl $O/practised.$name.jsonl > $E/reports/form.$name.md
done
python3 scripts/compare_training_smoke.py --run grpo=$O/grpo/metrics.jsonl --output $E/reports/training.md --quiet
python3 scripts/bench_training.py --real-metrics $O/grpo > $E/reports/time_split.txt
cp $O/grpo/summary.md $E/reports/run_summary.md
cp $O/grpo/best_checkpoint.json $O/grpo/config.json $E/reports/
${PY:-python3} scripts/make_reproducibility_manifest.py --output $E/manifest.json --markdown-output $E/manifest.md \
    --include configs/training/grpo.toml data/splits/generated.manifest.json data/splits/mbpp.manifest.json \
    $O/grpo/metrics.jsonl $O/grpo/config.json $O/grpo/best_checkpoint.json \
    $O/base.test.jsonl $O/practised.test.jsonl $O/base.test_heldout_families.jsonl \
    $O/practised.test_heldout_families.jsonl $O/base.mbpp_test.jsonl $O/practised.mbpp_test.jsonl --quiet
