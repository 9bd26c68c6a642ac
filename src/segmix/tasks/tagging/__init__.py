"""Named-entity tagging: CoNLL/JSONL reading (:mod:`.data`), sub-word encoding (:mod:`.encoding`),
entity-level scores (:mod:`.metrics`), prediction (:mod:`.inference`) and the task (:mod:`.task`).
"""
