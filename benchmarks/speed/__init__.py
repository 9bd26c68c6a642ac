"""Speed of segmix, one module per measurement; ``python benchmarks/speed`` runs them.

Each module has ``TITLE``, ``measure(args) -> dict`` and ``render(result) -> list[str]``; the
runner writes ``OUT/<measurement>.json`` and renders ``OUT/speed.md`` from the files there.
"""

MEASUREMENTS = ("generation", "step_overhead", "adversarial", "training", "prediction", "memory")
