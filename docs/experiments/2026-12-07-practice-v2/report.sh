#!/usr/bin/env bash
# Turn what run.sh has produced so far (outputs/real_run_v2/) into the committed reports of this folder.
# Idempotent and partial-friendly: a row, set or run not produced yet is skipped, so it can be rerun
# after every step. Rollouts are also kept gzipped in rollouts/ (the evaluations take hours on 2 cores).
#   usage: report.sh [forms]   ("forms" also writes outputs/real_run_v2/best_form.txt by the rule below)
set -euo pipefail
cd "$(dirname "$0")/../../.."
E=docs/experiments/2026-12-07-practice-v2
O=outputs/real_run_v2
R=$E/reports
mkdir -p $R $E/rollouts
FORMS=(default default_stop example example_stop)
ROWS=(base best_form sft grpo_v1 best)
SETS=(heldout test mbpp humaneval)
declare -A SPLIT=([heldout]=test_heldout_families [test]=test [mbpp]=test [humaneval]=none)

# 1. Answer forms on validation; the best-form base is the form with the highest mean pass rate over
#    samples (4 per task), ties broken by the first-sample rate, then by the order of FORMS.
cells=(); for f in "${FORMS[@]}"; do [[ -s $O/form.$f.validation.jsonl ]] && cells+=(--cell "$f:validation=$O/form.$f.validation.jsonl"); done
if (( ${#cells[@]} )); then
    python3 scripts/results_table.py "${cells[@]}" --output $R/forms.validation.md --json-output $R/forms.validation.json --quiet
    if [[ ${1:-} == forms ]]; then
        python3 - $R/forms.validation.json $O/best_form.txt <<'PY'
import json, sys
table = json.load(open(sys.argv[1]))
cells = {row: table["cells"][row]["validation"] for row in table["rows"]}
best = max(table["rows"], key=lambda row: (cells[row]["mean_over_samples"]["rate"], cells[row]["first_sample"]["rate"],
                                           -table["rows"].index(row)))
open(sys.argv[2], "w").write(best + "\n")
print(f"best form on validation: {best}")
PY
    fi
fi

# Each form against the default form on validation: is the form effect more than noise?
for f in "${FORMS[@]:1}"; do
    [[ -s $O/form.default.validation.jsonl && -s $O/form.$f.validation.jsonl ]] || continue
    python3 scripts/compare_final.py --baseline $O/form.default.validation.jsonl --candidate $O/form.$f.validation.jsonl \
        --split validation --allow-non-test --output $R/compare.form_$f.vs.default.validation.md \
        --json-output $R/compare.form_$f.vs.default.validation.json --quiet
done

# 2. Every row on every locked set in one table (each cell with its own intervals).
cells=()
for row in "${ROWS[@]}"; do for set in "${SETS[@]}"; do
    [[ -s $O/$row.$set.jsonl ]] && cells+=(--cell "$row:$set=$O/$row.$set.jsonl")
done; done
if (( ${#cells[@]} )); then
    python3 scripts/results_table.py "${cells[@]}" --output $R/results.md --json-output $R/results.json --quiet
fi

# 3. Paired comparisons against the best-form base (and base vs best-form base: the effect of form alone).
for row in "${ROWS[@]}"; do
    [[ $row == best_form ]] && continue
    for set in "${SETS[@]}"; do
        a=$O/best_form.$set.jsonl b=$O/$row.$set.jsonl
        [[ -s $a && -s $b ]] || continue
        where=(--split ${SPLIT[$set]}); [[ ${SPLIT[$set]} == none ]] && where=(--allow-non-test)
        # a file still being written covers fewer tasks: say so and go on (the next report.sh pairs it)
        python3 scripts/compare_final.py --baseline $a --candidate $b "${where[@]}" \
            --output $R/compare.$row.vs.best_form.$set.md --json-output $R/compare.$row.vs.best_form.$set.json --quiet \
            || echo "report.sh: $row vs best_form on $set not compared yet (above)" >&2
    done
done

# 3b. RL against imitation (each GRPO row against SFT: item 4's question) and the best recipe
#     against the v1 recipe, on every set.
for pair in sft:grpo_v1 sft:best grpo_v1:best; do
    base=${pair%%:*} row=${pair#*:}
    for set in "${SETS[@]}"; do
        a=$O/$base.$set.jsonl b=$O/$row.$set.jsonl
        [[ -s $a && -s $b ]] || continue
        where=(--split ${SPLIT[$set]}); [[ ${SPLIT[$set]} == none ]] && where=(--allow-non-test)
        python3 scripts/compare_final.py --baseline $a --candidate $b "${where[@]}" \
            --output $R/compare.$row.vs.$base.$set.md --json-output $R/compare.$row.vs.$base.$set.json --quiet \
            || echo "report.sh: $row vs $base on $set not compared yet (above)" >&2
    done
done

# 4. Training runs: curves and summaries.
runs=(); for run in sft grpo_v1 best sft_grpo_attempt best_partial_3steps; do [[ -s $O/$run/metrics.jsonl ]] && runs+=(--run "$run=$O/$run/metrics.jsonl"); done
if (( ${#runs[@]} )); then
    python3 scripts/compare_training_smoke.py "${runs[@]}" --output $R/training.md --json-output $R/training.json --quiet
fi
for run in sft grpo_v1 best sft_grpo_attempt best_partial_3steps; do
    [[ -s $O/$run/config.json ]] || continue
    mkdir -p $R/$run
    for f in config.json best_checkpoint.json summary.md metrics.jsonl; do [[ -s $O/$run/$f ]] && cp $O/$run/$f $R/$run/; done
done

# 5. Keep the rollouts (gzip -n: no name or time stamp, so the same file gives the same bytes).
for f in $O/*.jsonl; do gzip -n -c "$f" > $E/rollouts/$(basename "$f").gz; cp "$f.config.json" $E/rollouts/ 2>/dev/null || true; done

# 6. Manifest of everything the reports read.
${PY:-python3} scripts/make_reproducibility_manifest.py --output $E/manifest.json --markdown-output $E/manifest.md \
    --include configs/training/sft.toml $E/configs data/splits/generated_v2.manifest.json data/splits/mbpp.manifest.json \
    $(ls $O/*.jsonl) $(ls $O/*/config.json $O/*/metrics.jsonl $O/*/best_checkpoint.json 2>/dev/null) --quiet
