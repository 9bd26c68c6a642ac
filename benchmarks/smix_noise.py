"""How often SMix draws WordNet noise: a function word replaced, or a lower-case word given a
capitalised synonym (``prices`` → ``Leontyne Price``).

SMix is fitted on a 200-sentence CoNLL-2003 subset (sample seed 1) and draws 5,000 mixes. The
criterion is fixed (the stop-word list of *this* tree), so a run against another source tree
(``--src``, e.g. a worktree of the commit before the fix) measures the same thing:

    git worktree add /tmp/old 2a1d3fe
    python benchmarks/smix_noise.py --src /tmp/old/src --label before
    python benchmarks/smix_noise.py --label after

Each run adds its row to benchmarks/results/smix_noise.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = ROOT / "benchmarks" / "results" / "smix_noise"


def measure(n: int) -> dict:
    """Run in a child whose ``segmix`` is the tree under test."""
    import importlib.util

    import numpy as np

    import segmix

    try:
        from segmix.augment.segments import SynonymMix
    except ImportError:  # trees before the augment subpackage
        from segmix.augment import SynonymMix
    from segmix.datafiles import sample_subset
    from segmix.encoding import SubwordCache, load_tokenizer
    from segmix.tasks.tagging.data import read_conll
    from segmix.tasks.tagging.encoding import encode_tagged

    spec = importlib.util.spec_from_file_location("criterion", ROOT / "src/segmix/wordnet.py")
    criterion = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(criterion)
    stop_words = criterion.STOP_WORDS

    train = ROOT.parent / "shared" / "data" / "conll2003" / "train.txt"
    sentences = read_conll(train)
    labels = sorted({t for s in sentences for t in s.tags} - {"O"})
    labels = ["O", *labels]
    subset = sample_subset(sentences, 200, seed=1)
    cache = SubwordCache(load_tokenizer(None))
    examples = encode_tagged(subset, cache, {lb: i for i, lb in enumerate(labels)})
    smix = SynonymMix().fit(examples, labels, cache)
    mixes = smix.generate(n, np.random.default_rng(0))
    stop = case = either = 0
    examples_bad: Counter = Counter()
    for m in mixes:
        rec = m.mixes[0]
        word, synonym = rec.words_a[0], " ".join(rec.words_b)
        is_stop = word.lower() in stop_words
        is_case = word == word.lower() and any(ch.isupper() for ch in synonym)
        stop, case, either = stop + is_stop, case + is_case, either + (is_stop or is_case)
        if is_stop or is_case:
            examples_bad[f"{word} → {synonym}"] += 1
    return {
        "source": str(Path(segmix.__file__).parents[1]),
        "mixes": len(mixes),
        "stop_word_share": stop / len(mixes),
        "capitalised_share": case / len(mixes),
        "either_share": either / len(mixes),
        "most_frequent": examples_bad.most_common(10),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="src/ of the tree to measure")
    parser.add_argument("--label", default="current")
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.n)))
        return
    env = {**os.environ, "PYTHONPATH": args.src, "HF_HUB_OFFLINE": "1"}
    # the child must import segmix from --src, not from this tree's editable install
    env["PYTHONSAFEPATH"] = "1"
    out = subprocess.run(
        [sys.executable, __file__, "--child", "-n", str(args.n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    results = (
        json.loads(RESULT.with_suffix(".json").read_text())
        if RESULT.with_suffix(".json").exists()
        else {}
    )
    results[args.label] = row
    RESULT.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    lines = [
        "# SMix's WordNet noise",
        "",
        "SMix fitted on 200 CoNLL-2003 sentences (sample seed 1), 5,000 mixes (seed 0). A mix is "
        "noise when it replaces a function word (the stop-word list of segmix.wordnet) or gives "
        "a lower-case word a capitalised synonym.",
        "",
        "| tree | function word replaced | lower-case → capitalised | either | most frequent |",
        "|---|---|---|---|---|",
    ]
    for label, r in results.items():
        top = ", ".join(f"{k} ({v})" for k, v in r["most_frequent"][:5]) or "–"
        lines.append(
            f"| {label} | {r['stop_word_share']:.1%} | {r['capitalised_share']:.1%} | "
            f"{r['either_share']:.1%} | {top} |"
        )
    RESULT.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
