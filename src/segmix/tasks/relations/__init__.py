"""Relation classification: SemEval/TACRED reading (:mod:`.data`), the marker-pooling classifier
(:mod:`.model`), official scores (:mod:`.metrics`), prediction (:mod:`.inference`) and the task
(:mod:`.task`).
"""
