"""Train the chatbot's topic classifier on the knowledge entries' question forms and export it.

    python -m pip install scikit-learn      # in any environment that can import this checkout
    python scripts/train_topic_model.py     # writes chatbot/knowledge/topic_model.json

Run it after changing the question forms (``chatbot/knowledge/entries.toml``): a test fails while
the exported model's digest does not match them. scikit-learn fits a TF-IDF vectoriser over
:func:`chatbot.intents.topic_model.analyze` and a multinomial logistic regression; the app runs the
exported numbers without scikit-learn (:class:`chatbot.intents.topic_model.TopicModel`), and this
script checks that the app's probabilities equal scikit-learn's on every form before it writes.

The settings (character 2–5-grams with words and word pairs, features in at least two forms, C=10)
were chosen on the labelled sets in ``tests/chatbot/data``, which the model never trains on.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from chatbot import knowledge  # noqa: E402
from chatbot.intents.topic_model import MODEL_FILE, TopicModel, analyze, forms_digest  # noqa: E402
from chatbot.intents.topics import training_forms  # noqa: E402

MIN_FORMS = 2  # a feature must occur in this many forms
C = 10.0
TOLERANCE = 1e-4  # float32 coefficients against scikit-learn's float64


def main() -> int:
    forms = training_forms(knowledge.entries())
    texts, labels = [form for _, form in forms], [topic for topic, _ in forms]
    vectoriser = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=MIN_FORMS)
    matrix = vectoriser.fit_transform(texts)
    classifier = LogisticRegression(C=C, max_iter=5000).fit(matrix, labels)
    features = list(vectoriser.get_feature_names_out())
    model = TopicModel.build(list(classifier.classes_), features, list(vectoriser.idf_),
                             classifier.coef_.tolist(), classifier.intercept_.tolist(), forms_digest(forms))
    expected = classifier.predict_proba(matrix)
    worst = max(abs(model.probabilities(text)[topic] - expected[row][column])
                for row, text in enumerate(texts) for column, topic in enumerate(classifier.classes_))
    if worst > TOLERANCE:
        print(f"the app's probabilities differ from scikit-learn's by {worst:.2e}", file=sys.stderr)
        return 1
    target = ROOT / "chatbot" / "knowledge" / MODEL_FILE
    target.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"{target.relative_to(ROOT)}: {len(model.classes)} entries, {len(forms)} forms, {len(features)} features, "
          f"{target.stat().st_size / 1024:.0f} KiB; largest difference from scikit-learn {worst:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
