"""What the benchmark scripts share: the repository root, ``src/`` on the path, offline settings.

The quality grids are ``segmix experiment`` specs (``configs/ner_quality.yaml``,
``configs/re_quality.yaml``); their run folders live under ``benchmarks/runs/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
