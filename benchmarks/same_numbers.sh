#!/usr/bin/env bash
# Same seed, same numbers across a change: one short NER run (MMix) and one RE run (RMix) with
# the code of git revision REV and with the working tree, then their predictions and scores
# compared byte for byte (scores less their timings). For refactors that must not move a number.
#
#   bash benchmarks/same_numbers.sh 00c5d77        # before the task packages; about 3 minutes
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: same_numbers.sh REV}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/before"
git archive "$rev" src | tar -x -C "$work/before"
data=${DATA:-../shared/data}
run() {  # run SRC OUT: the two runs with the package at SRC
    for task in ner re; do
        case $task in
            ner) extra=(--data "$data/conll2003" --augment mmix) ;;
            re) extra=(--task re --data "$data/semeval2010_task8" --augment rmix) ;;
        esac
        HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$1 .venv/bin/segmix train \
            "${extra[@]}" --train-size 100 --max-steps 40 --eval-every 20 --dev-size 200 \
            --test-size 300 --seed 3 --sample-seed 3 --no-save-model --no-progress \
            --out "$2/$task" >/dev/null
    done
}
run "$work/before/src" "$work/runs_before"
run src "$work/runs_after"
status=0
for task in ner re; do
    # (the compact test predictions are predictions/test.jsonl's ids and labels, in a file
    # whose name and compression changed with decision 58: test.jsonl is compared instead)
    for f in predictions/dev.jsonl predictions/test.jsonl subset.json; do
        if cmp -s "$work/runs_before/$task/$f" "$work/runs_after/$task/$f"; then
            echo "$task $f: identical"
        else
            echo "$task $f: DIFFERENT"; status=1
        fi
    done
    .venv/bin/python - "$work/runs_before/$task/metrics.json" "$work/runs_after/$task/metrics.json" "$task" <<'PY' || status=1
import json, sys
def scores(d):
    if isinstance(d, dict):
        return {k: scores(v) for k, v in d.items() if k not in ("seconds", "timing", "machine")}
    return d
a, b = (scores(json.load(open(p))) for p in sys.argv[1:3])
print(f"{sys.argv[3]} metrics.json less timings: {'identical' if a == b else 'DIFFERENT'} "
      f"(test {a['test']['f1']:.4f} / {b['test']['f1']:.4f})")
sys.exit(a != b)
PY
done
exit $status
