"""A linear classifier over the knowledge entries' question forms, trained with scikit-learn, run here without it.

Why: the fuzzy matcher (:mod:`.topics`) compares a line with the forms' words; on questions written
by people who never saw the forms (``bench/eval_understanding.py`` on a blind set) it picked the
right entry for 0.88 to 0.93 of them. A TF-IDF model over character n-grams and words, with a
multinomial logistic regression trained on the same forms, picks 0.94 to 0.97, and blended with
the matcher it does best (figures in :mod:`.topics`). scikit-learn with numpy and
scipy would add about 100 MB to the chat app's 68 MB, and its budget is 80 MB; a linear model
needs none of it to *run*: the fitted vocabulary, idf weights, coefficients and intercepts are exported to
``chatbot/knowledge/topic_model.json`` by ``scripts/train_topic_model.py`` (which uses
scikit-learn, and checks that :meth:`TopicModel.probabilities` reproduces its ``predict_proba``),
and scored here in a few hundred microseconds.

:func:`analyze` is the one feature extractor, used by the training script as scikit-learn's
``analyzer`` and here, so the two cannot drift apart. The exported file names the digest of the
forms it was trained on (:func:`forms_digest`); a test fails when the entries change and the model
was not trained again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from operator import itemgetter, mul

from .vocabulary import _CONTRACTIONS

__all__ = ["MODEL_FILE", "TopicModel", "analyze", "forms_digest", "load"]

MODEL_FILE = "topic_model.json"
_WORD = re.compile(r"\w+")
_CHAR_NGRAMS = (2, 5)


def analyze(text: str) -> list[str]:
    """The features of ``text``: the character 2- to 5-grams of each word padded with spaces (typos and
    endings cost little), each word (``w:``), and each pair of neighbouring words (``b:``). Contractions and chat
    spellings are expanded first, as everywhere in the parser ("what's", "u", "pls")."""
    words = [word for token in _WORD.findall(text.lower().replace("’", "").replace("'", ""))
             for word in _CONTRACTIONS.get(token, (token,))]
    features: list[str] = []
    low, high = _CHAR_NGRAMS
    for word in words:
        padded = f" {word} "
        for n in range(low, high + 1):
            features.extend(padded[i:i + n] for i in range(max(1, len(padded) - n + 1)))
        features.append("w:" + word)
    features.extend(f"b:{first} {second}" for first, second in zip(words, words[1:]))
    return features


def forms_digest(forms: Iterable[tuple[str, str]]) -> str:
    """A digest of the (entry id, question form) pairs a model is trained on."""
    digest = hashlib.sha256()
    for topic, form in forms:
        digest.update(f"{topic}\x1f{form}\x1e".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class TopicModel:
    """TF-IDF (sublinear tf, l2-normalised) then a multinomial logistic regression, as scikit-learn fitted them."""

    classes: tuple[str, ...]
    index: Mapping[str, int]  # feature -> its position
    idf: array  # per feature
    coef: tuple[array, ...]  # per class: a weight per feature (scikit-learn's ``coef_`` rows)
    intercept: tuple[float, ...]
    digest: str

    def probabilities(self, text: str) -> dict[str, float]:
        """Each entry's probability that ``text`` asks about it (they sum to 1)."""
        weights: dict[int, float] = {}
        for feature, count in Counter(analyze(text)).items():
            position = self.index.get(feature)
            if position is not None:
                weights[position] = (1.0 + math.log(count)) * self.idf[position]
        scores = list(self.intercept)
        if weights:
            norm = math.sqrt(sum(value * value for value in weights.values()))
            values = [value / norm for value in weights.values()]
            positions = list(weights)
            pick = itemgetter(*positions) if len(positions) > 1 else (lambda row: (row[positions[0]],))
            # per class, the weights of this line's features gathered and summed in C: a few hundred microseconds
            scores = [bias + sum(map(mul, values, pick(row))) for bias, row in zip(scores, self.coef)]
        top = max(scores)
        exp = [math.exp(score - top) for score in scores]
        total = sum(exp)
        return {topic: value / total for topic, value in zip(self.classes, exp)}

    def to_json(self) -> str:
        features = sorted(self.index, key=self.index.__getitem__)
        weights = b"".join(_little_endian(row).tobytes() for row in self.coef)
        return json.dumps({
            "digest": self.digest, "classes": list(self.classes), "features": features,
            "idf": list(self.idf), "intercept": list(self.intercept),
            "coef_float32_le": base64.b64encode(weights).decode("ascii"),
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> TopicModel:
        data = json.loads(text)
        weights = array("f")
        weights.frombytes(base64.b64decode(data["coef_float32_le"]))
        weights = _little_endian(weights)
        width = len(data["features"])
        return cls(classes=tuple(data["classes"]), index={f: i for i, f in enumerate(data["features"])},
                   idf=array("d", data["idf"]),
                   coef=tuple(weights[c * width:(c + 1) * width] for c in range(len(data["classes"]))),
                   intercept=tuple(data["intercept"]), digest=data["digest"])

    @classmethod
    def build(cls, classes: Sequence[str], features: Sequence[str], idf: Sequence[float],
              coef_rows: Sequence[Sequence[float]], intercept: Sequence[float], digest: str) -> TopicModel:
        """From a fitted model: ``coef_rows`` is one row per class (scikit-learn's ``coef_``)."""
        return cls(classes=tuple(classes), index={f: i for i, f in enumerate(features)}, idf=array("d", idf),
                   coef=tuple(array("f", row) for row in coef_rows),
                   intercept=tuple(float(value) for value in intercept), digest=digest)


def _little_endian(values: array) -> array:
    """The file stores little-endian floats; a big-endian machine swaps them (a copy, the argument is kept)."""
    if sys.byteorder == "little":
        return values
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped


@cache
def load() -> TopicModel:
    """The model shipped beside the knowledge entries (read once)."""
    text = resources.files("chatbot.knowledge").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return TopicModel.from_json(text)
