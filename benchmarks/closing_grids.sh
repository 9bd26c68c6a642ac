#!/usr/bin/env bash
# The grids behind the committed experiment results, in the order they are run, each resumable:
# run this again after an interruption (Ctrl-C, kill, a session's end) and finished cells are
# skipped, unfinished ones resumed. Commit benchmarks/runs/ between sessions (.gitignore keeps
# each finished cell's summary and compact test predictions, not checkpoints) and the next
# session continues where this one stopped.
#
#   bash benchmarks/closing_grids.sh            # everything, then the reports
#   bash benchmarks/closing_grids.sh reports    # only the reports, from whatever has finished
#
# About 400 cells: about 10 hours on 2 AVX512-BF16 cores, about 30 on 2 AVX2 cores
# (a cell's machine is in its metrics.json; the reports count runs by machine).
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SEGMIX=${SEGMIX:-.venv/bin/segmix}
RUNS=benchmarks/runs
RESULTS=benchmarks/results
WORKERS=${WORKERS:-2}
status=0

grid() {  # grid SPEC OUT [options]: one grid, its failures noted but never stopping the rest
    local spec=$1 out=$2
    shift 2
    echo "== $(date -u +%FT%TZ) $spec -> $out"
    "$SEGMIX" experiment "$spec" --out "$out" --workers "$WORKERS" "$@" || status=1
}

reuse_cells() {  # reuse_cells FROM TO: a finished grid's cells, for a grid that plans them too
    # A cell id is its full configuration, so a cell of the quality grids (200 examples, lr 1e-4,
    # seeds 1-5) that the closing spec also plans has the same id there: copied into the closing
    # grid, it is reused instead of trained again (checked with --dry-run: 18 NER and 6 RE
    # lr-search cells, and the seeds 3-5 cells wherever 1e-4 is chosen). Cells the closing grid
    # does not plan are ignored by it. Only summaries travel; a cell already there is kept.
    mkdir -p "$2/cells"
    for cell in "$1"/cells/*/; do
        local id
        id=$(basename "$cell")
        [ -e "$2/cells/$id" ] || cp -r "$cell" "$2/cells/$id"
    done
}

if [ "${1:-all}" != reports ]; then
    # equal epochs (paper-style) against equal steps: where a paper-style gain comes from
    grid configs/conll2003_epochs.yaml "$RUNS/conll2003_epochs_grid"
    grid configs/conll2003_epochs_steps.yaml "$RUNS/conll2003_epochs_steps_grid"
    # the rate sweep of the SegMix variants at 100 sentences
    grid configs/conll2003_rates.yaml "$RUNS/conll2003_rates_grid"
    # relation classification at 200 and 400 examples
    reuse_cells "$RUNS/re_quality_grid" "$RUNS/semeval2010_grid"
    grid configs/semeval2010.yaml "$RUNS/semeval2010_grid" --sizes 200,400 --methods rmix,mixup
    # NER at 50, 100 and 200 sentences: the SegMix variants, the best rule (SiS, by the quality
    # grid), the sequence-level baselines and the spaCy reference row; each size's final cells
    # start once its own lr search is over, so the sizes finish one after another
    # The NER quality grid's cells are not reused here: they were trained before runs wrote
    # test_pred.json.gz and their predictions are gone, so with them the report could not
    # bootstrap size 200 (the `none` cells of every seed among them) and could recommend
    # nothing there. 200 first: the H200 grid (conll2003_gpu_grid) finished 50 and 100 but
    # only 200's lr search.
    grid configs/conll2003.yaml "$RUNS/conll2003_grid" --sizes 200 \
        --methods mmix,tmix,smix,sis,mixup,seqmix,lada,spacy
    grid configs/conll2003.yaml "$RUNS/conll2003_grid" --sizes 50,100,200 \
        --methods mmix,tmix,smix,sis,mixup,seqmix,lada,spacy
fi

report() {  # report GRID OUT: only for a grid that has started
    [ -f "$1/grid.json" ] && { "$SEGMIX" report "$1" --out "$2" || status=1; }
}
report "$RUNS/conll2003_epochs_grid" "$RESULTS/ner_conll2003_epochs/equal_epochs"
report "$RUNS/conll2003_epochs_steps_grid" "$RESULTS/ner_conll2003_epochs/equal_steps"
if [ -f "$RUNS/conll2003_epochs_grid/grid.json" ] && [ -f "$RUNS/conll2003_epochs_steps_grid/grid.json" ]; then
    .venv/bin/python benchmarks/epochs_vs_steps.py || status=1
fi
report "$RUNS/conll2003_rates_grid" "$RESULTS/ner_conll2003_rates"
report "$RUNS/semeval2010_grid" "$RESULTS/re_semeval2010_sizes"
report "$RUNS/conll2003_grid" "$RESULTS/ner_conll2003_sizes"
report "$RUNS/conll2003_gpu_grid" "$RESULTS/ner_conll2003_sizes_gpu"
exit $status
