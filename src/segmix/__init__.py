"""SegMix: structure-aware mixup for NER and relation extraction when labelled data is scarce.

Every augmentation yields a :class:`MixedExample` (two aligned sub-word sequences, per-position
weights, two label sequences, label weights); :class:`MixCollator` batches them and
:func:`pair_cross_entropy` is the loss, whichever method made the batch.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Imports are lazy so that ``segmix --help`` and ``import segmix`` stay light (no torch).
_EXPORTS = {
    "MixedExample": "segmix.mixing",
    "Segment": "segmix.mixing",
    "mix_segments": "segmix.mixing",
    "align_segments": "segmix.mixing",
    "MentionMix": "segmix.augment.segments",
    "TokenMix": "segmix.augment.segments",
    "SynonymMix": "segmix.augment.segments",
    "MixParams": "segmix.augment.segments",
    "PackedMixes": "segmix.augment.packed",
    "RelationMix": "segmix.augment.relations",
    "ArgumentMix": "segmix.augment.relations",
    "RelationExample": "segmix.tasks.relations.data",
    "read_relations": "segmix.tasks.relations.data",
    "semeval_official_score": "segmix.tasks.relations.metrics",
    "RelationClassifier": "segmix.tasks.relations.model",
    "encode_relations": "segmix.tasks.relations.model",
    "RelationClassifierConfig": "segmix.tasks.relations.model",
    "MarkerScheme": "segmix.tasks.relations.model",
    "make_augmenter": "segmix.augment",
    "SubwordCache": "segmix.encoding",
    "encode_tagged": "segmix.tasks.tagging.encoding",
    "load_tokenizer": "segmix.encoding",
    "MixCollator": "segmix.collate",
    "pair_cross_entropy": "segmix.model",
    "mixed_forward": "segmix.model",
    "token_loss": "segmix.model",
    "load_token_classifier": "segmix.model",
    "ner_scores": "segmix.tasks.tagging.metrics",
    "Tagger": "segmix.tasks.tagging.inference",
    "predict_tags": "segmix.tasks.tagging.inference",
    "TrainConfig": "segmix.config",
    "train": "segmix.run",
    "prepare": "segmix.run",
    "get_task": "segmix.tasks",
    "SegMixTrainer": "segmix.engine",
    "SegMixDataset": "segmix.engine",
    "SegMixSampler": "segmix.engine",
    "EvalSet": "segmix.engine",
    "segmix_loss": "segmix.engine",
    "read_conll": "segmix.tasks.tagging.data",
    "read_jsonl": "segmix.tasks.tagging.data",
    "read_ner": "segmix.tasks.tagging.data",
    "sample_subset": "segmix.datafiles",
    "label_list": "segmix.tasks.tagging.data",
    "NerSentence": "segmix.tasks.tagging.data",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segmix' has no attribute {name!r}")
    return getattr(import_module(module), name)
