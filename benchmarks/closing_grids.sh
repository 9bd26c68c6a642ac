#!/usr/bin/env bash
# The grids behind the committed experiment results, in the order they are run, each resumable:
# run this again after an interruption (Ctrl-C, kill, a session's end) and finished cells are
# skipped, unfinished ones resumed. Commit benchmarks/runs/ between sessions (.gitignore keeps
# each finished cell's summary and compact test predictions, not checkpoints) and the next
# session continues where this one stopped.
#
#   bash benchmarks/closing_grids.sh            # the CPU grids, then the reports
#   bash benchmarks/closing_grids.sh gpu        # the NER grid by size, on a GPU machine
#   bash benchmarks/closing_grids.sh replicate  # that grid again on this machine (CPU)
#   bash benchmarks/closing_grids.sh pos        # the POS grid on UD English EWT (50, 100), then reports
#   bash benchmarks/closing_grids.sh headline   # the re-measured NER grid (50, 100 done; SIZES=200 for a part)
#   bash benchmarks/closing_grids.sh rates      # which rate at which size (SIZES=50,100 for a part)
#   bash benchmarks/closing_grids.sh rmix       # RMix's readings, mixup, SR: SemEval by size (SIZES likewise)
#   bash benchmarks/closing_grids.sh samecell   # headline cells again on this machine: AVX2 against AVX-512
#   bash benchmarks/closing_grids.sh samecell100  # none and spaCy at 100 again on this machine
#   bash benchmarks/closing_grids.sh samecellrates  # the rates grid's none at 100 again here
#   bash benchmarks/closing_grids.sh reports    # only the reports (and README's results, from them)
#   STOP_AFTER=2h bash benchmarks/closing_grids.sh rmix   # each grid starts no cell after 2 hours
#
# On 2 AVX-512 cores with two cells side by side a cell costs about 0.7 s an optimizer step,
# CoNLL-2003 and SemEval alike (its setup, dev evaluations and test scoring included), so a grid
# takes about cells × steps × 0.7 s ÷ 2: the RMix grid's 130 cells at 400 examples (400 steps)
# about 5 hours; three times that on AVX2 alone (a cell's machine is in its metrics.json; the
# reports count runs by machine). `segmix experiment --dry-run` lists a grid's cells and steps.
# The GPU grid is 324 cells: 21 minutes on one H200 with 16 cores (WORKERS=8 to 12 there).
set -uo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
SEGMIX=${SEGMIX:-.venv/bin/segmix}
RUNS=benchmarks/runs
RESULTS=benchmarks/results
mode=${1:-all}
[ "$mode" = gpu ] && WORKERS=${WORKERS:-12}
WORKERS=${WORKERS:-2}
status=0

grid() {  # grid SPEC OUT [options]: one grid, its failures noted but never stopping the rest
    local spec=$1 out=$2
    shift 2
    echo "== $(date -u +%FT%TZ) $spec -> $out"
    "$SEGMIX" experiment "$spec" --out "$out" --workers "$WORKERS" ${STOP_AFTER:+--stop-after "$STOP_AFTER"} "$@" || status=1
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

report() {  # report GRID OUT: only for a grid that has started
    [ -f "$1/grid.json" ] && { "$SEGMIX" report "$1" --out "$2" || status=1; }
}

# The grids below that choose an lr on dev (gpu, replicate, semeval2010, spaCy's) were run when
# the lr search took its seeds from the reported ones (seeds 1-2). configs/ now searches on seeds
# of its own (1001, 1002), which would plan new search cells and give these grids new cells to
# train; each is therefore resumed from its own copy of the spec, GRID/experiment.yaml, which
# keeps the old policy (lr_search_reuses_seeds: true) and so the committed cells' ids.
historical() {  # historical GRID [options]: a grid resumed with the spec it was run with, in GRID
    local out=$1
    shift
    grid "$out/experiment.yaml" "$out" "$@"
}

# NER by training-set size: the SegMix variants, the best rule (SiS, by the quality grid) and
# the sequence-level baselines, each method's lr chosen per size on dev; each size's final cells
# start once its own lr search is over, so the sizes finish one after another
sizes_grid() {  # sizes_grid GRID OUT: that grid in GRID, its report in OUT, and stop
    historical "$1" --sizes 50,100,200,400 --methods mmix,tmix,smix,sis,mixup,seqmix,lada
    report "$1" "$2"
    exit $status
}
[ "$mode" = gpu ] && sizes_grid "$RUNS/conll2003_gpu_grid" "$RESULTS/ner_conll2003_sizes_gpu"
if [ "$mode" = replicate ]; then
    # the same cells on this machine, in a grid of their own; the spaCy row's grid keeps its
    # own manifest, and its cells that this grid plans too (none, and any lr-search cell an
    # earlier run of the whole spec left there) are reused here
    reuse_cells "$RUNS/conll2003_grid" "$RUNS/conll2003_cpu_grid"
    sizes_grid "$RUNS/conll2003_cpu_grid" "$RESULTS/ner_conll2003_sizes_cpu"
fi

if [ "$mode" = all ]; then
    # equal epochs (paper-style) against equal steps: where a paper-style gain comes from
    grid configs/conll2003_epochs.yaml "$RUNS/conll2003_epochs_grid"
    grid configs/conll2003_epochs_steps.yaml "$RUNS/conll2003_epochs_steps_grid"
    # the rate sweep of the SegMix variants and SiS at 50-400 sentences
    grid configs/conll2003_rates.yaml "$RUNS/conll2003_rates_grid"
    # relation classification at 200 and 400 examples
    reuse_cells "$RUNS/re_quality_grid" "$RUNS/semeval2010_grid"
    historical "$RUNS/semeval2010_grid" --sizes 200,400 --methods rmix,mixup
    # the spaCy reference row against none at 50, 100 and 200 sentences, on the same subsets
    # (the MiniLM methods by size: the `gpu` mode above, or `replicate` on this machine)
    historical "$RUNS/conll2003_grid" --sizes 50,100,200 --methods spacy
fi

# part-of-speech tagging on UD English EWT at 50 and 100 sentences (configs/ud_ewt_pos.yaml)
[ "$mode" = pos ] && { grid configs/ud_ewt_pos.yaml "$RUNS/ud_ewt_pos_grid" --sizes 50,100; }
# the headline NER grid re-measured on the corrected comparators (configs/conll2003.yaml),
# in the CPU order: every method at 50 and 100 sentences first; then `sizes: [50, 100]` in
# configs/conll2003.yaml on each method without evidence at either and not a contrast partner
# of one with evidence (decision 51), and SIZES=200,400 for the rest and the baseline (the
# grid is whole once those are done). benchmarks/going_on.py reads that rule off the report
# (run it without --check to see which methods go on); the larger sizes do not start while
# the spec disagrees with it. The grid is whole (every size); the methods that went on from
# 100: none, SMix, SiS, rules, SMix + FGM, FGM alone and spaCy.
# At 50 its cells that the CPU grids of that machine type (AMD EPYC) had already trained (same
# ids: none, MMix, TMix, SMix, SiS, mixup and LADA intra; none and spaCy) were copied in, not
# retrained (--reuse-from benchmarks/runs/conll2003_cpu_grid --reuse-from
# benchmarks/runs/conll2003_grid); the H200 grid's were not, so that no comparison pairs a GPU
# run with a CPU one. From 100 on nothing is copied: 100's reported runs began on another
# processor (Intel Xeon) than those grids', and a copied baseline would have paired every gain
# at 100 across two machines; a size's baseline is trained beside its methods.
if [ "$mode" = headline ] && [[ ",${SIZES:-50,100,200,400}," =~ ,(200|400), ]]; then
    "${PYTHON:-.venv/bin/python}" benchmarks/going_on.py "$RESULTS/ner_conll2003_headline/report.json" \
        --from 50,100 --check configs/conll2003.yaml || exit 1
fi
[ "$mode" = headline ] && grid configs/conll2003.yaml "$RUNS/conll2003_headline_grid" --sizes "${SIZES:-50,100,200,400}"
# A part of a grid (--sizes) records itself beside the parts run before it (grid.json and
# lr_choice.json keep them), so a grid may run size by size across sessions.
# The rates grid goes on to 200 and 400 with the methods whose rate question is alive at 50 and
# 100 (decision 60), read off its report and the headline grid's; the larger sizes do not start
# while the spec disagrees with that rule.
if [ "$mode" = rates ] && [[ ",${SIZES:-50,100,200,400}," =~ ,(200|400), ]]; then
    "${PYTHON:-.venv/bin/python}" benchmarks/going_on.py "$RESULTS/ner_conll2003_rates/report.json" \
        --from 50,100 --rates --headline "$RESULTS/ner_conll2003_headline/report.json" \
        --check configs/conll2003_rates.yaml || exit 1
fi
[ "$mode" = rates ] && grid configs/conll2003_rates.yaml "$RUNS/conll2003_rates_grid" --sizes "${SIZES:-50,100,200,400}"
[ "$mode" = rmix ] && grid configs/semeval2010_rmix.yaml "$RUNS/semeval2010_rmix_grid" --sizes "${SIZES:-100,200,400}"
# The headline grid's cells come from two instruction sets (AVX2, AVX-512 CPUs). Its reported
# cells at 50 of mixup, TMix and SiS (and none's), trained on AVX-512, trained again on this
# machine in a grid of their own: their lr-search cells are copied in (they only choose the lr,
# and are left out of the comparison as the same runs), the reported ones trained here; then
# the pairs by id (decision 56: the same scores, 17 of 17 cells, AVX-512 against AVX2).
search_cells() {  # search_cells FROM TO SIZE LABELS: finished lr-search cells of LABELS at SIZE
    "${PYTHON:-.venv/bin/python}" - "$@" <<'EOF'
import json
import shutil
import sys
from pathlib import Path

src, dst, size = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
labels = sys.argv[4].split(",")
for entry in json.loads((src / "grid.json").read_text())["cells"]:
    cell = Path(entry["dir"]).parent
    finished = (src / entry["dir"] / "finished.json").exists()
    wanted = entry["lr_search"] and entry["size"] == size and entry["label"] in labels
    if wanted and finished and not (dst / cell).exists():
        shutil.copytree(src / cell, dst / cell)
EOF
}
if [ "$mode" = samecell ]; then
    search_cells "$RUNS/conll2003_headline_grid" "$RUNS/conll2003_headline_same_cell" 50 none,mixup,tmix,sis
    grid configs/conll2003.yaml "$RUNS/conll2003_headline_same_cell" --sizes 50 --methods mixup,tmix,sis
    "${PYTHON:-.venv/bin/python}" benchmarks/same_cell.py "$RUNS/conll2003_headline_grid" \
        "$RUNS/conll2003_headline_same_cell" --name same_cell_cpu || status=1
    exit $status
fi
# Two Intel Xeons ran the headline grid's size 100 (a Sapphire Rapids, bf16 native, named
# "Intel(R) Xeon(R) Processor", then an Ice Lake, "… @ 2.80GHz"): none's and spaCy's reported
# cells at 100 trained again on this machine, as above, and paired by id (same_cell_xeon).
if [ "$mode" = samecell100 ]; then
    search_cells "$RUNS/conll2003_headline_grid" "$RUNS/conll2003_headline_same_cell_100" 100 none
    grid configs/conll2003.yaml "$RUNS/conll2003_headline_same_cell_100" --sizes 100 --methods spacy   # the baseline always runs; "none" would also keep FGM alone (method none)
    "${PYTHON:-.venv/bin/python}" benchmarks/same_cell.py "$RUNS/conll2003_headline_grid" \
        "$RUNS/conll2003_headline_same_cell_100" --name "${SAME_CELL_NAME:-same_cell_xeon}" || status=1
    exit $status
fi

# The rates grid's size 100 ran its baseline and MMix, TMix and SMix on an AMD EPYC (AVX2) and
# SiS on an Intel Xeon (Ice Lake, AVX-512), a pair of CPU kinds no same-cell check had compared
# directly: none's five cells at 100 trained again on the second, paired by id.
if [ "$mode" = samecellrates ]; then
    grid configs/conll2003_rates.yaml "$RUNS/conll2003_rates_same_cell" --sizes 100 --methods none
    "${PYTHON:-.venv/bin/python}" benchmarks/same_cell.py "$RUNS/conll2003_rates_grid" \
        "$RUNS/conll2003_rates_same_cell" --name same_cell_rates || status=1
    exit $status
fi

report "$RUNS/conll2003_epochs_grid" "$RESULTS/ner_conll2003_epochs/equal_epochs"
report "$RUNS/conll2003_epochs_steps_grid" "$RESULTS/ner_conll2003_epochs/equal_steps"
if [ -f "$RUNS/conll2003_epochs_grid/grid.json" ] && [ -f "$RUNS/conll2003_epochs_steps_grid/grid.json" ]; then
    .venv/bin/python benchmarks/epochs_vs_steps.py || status=1
fi
report "$RUNS/conll2003_rates_grid" "$RESULTS/ner_conll2003_rates"
report "$RUNS/semeval2010_grid" "$RESULTS/re_semeval2010_sizes"
report "$RUNS/conll2003_grid" "$RESULTS/ner_conll2003_spacy"
report "$RUNS/conll2003_gpu_grid" "$RESULTS/ner_conll2003_sizes_gpu"
report "$RUNS/conll2003_cpu_grid" "$RESULTS/ner_conll2003_sizes_cpu"
report "$RUNS/ner_quality_grid" "$RESULTS/ner_conll2003"
report "$RUNS/re_quality_grid" "$RESULTS/re_semeval2010"
report "$RUNS/ud_ewt_pos_grid" "$RESULTS/pos_ud_ewt"
report "$RUNS/conll2003_headline_grid" "$RESULTS/ner_conll2003_headline"
report "$RUNS/semeval2010_rmix_grid" "$RESULTS/re_semeval2010_rmix"
# README's results are written from these reports, never by hand
.venv/bin/python benchmarks/readme_results.py || status=1
exit $status
