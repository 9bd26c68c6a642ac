"""Part-of-speech tagging: one label per word, no spans.

CoNLL-U reading and writing (:mod:`.conllu`), word accuracy with per-tag F1 (:mod:`.metrics`),
synonyms of the word's own part of speech for SMix and SR (:mod:`.synonyms`) and the task
(:mod:`.task`). Encoding, the model and prediction are tagging's (:mod:`segmix.tasks.tagging`):
a POS tag sits on a word's first sub-word exactly as an entity tag does.
"""
