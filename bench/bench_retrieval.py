"""Which library matches a question to its knowledge entry: accuracy, load time, memory, speed (a script).

The candidates, each given the same question forms (``chatbot/knowledge/entries.toml``):

* **rapidfuzz** ``process.extract`` over the question forms, alone (``chatbot.intents.topics``:
  closeness of the best three forms, blended with rarity-weighted shared words);
* **the exported classifier** alone (``chatbot.intents.topic_model``): TF-IDF over character
  n-grams and words with a multinomial logistic regression, trained by scikit-learn
  (``scripts/train_topic_model.py``) and run without it;
* **both blended** — what the bot uses (``topics.rank``);
* **scikit-learn live**: the same classifier fitted in the process, to show what importing
  scikit-learn would cost the app;
* **bm25s** — BM25 over one document per entry (its question forms and title);
* **scikit-learn TF-IDF** — character 3–5-grams, cosine, one document per entry.

Scored on every line that names a topic in ``tests/chatbot/data/questions_corpus.jsonl`` and
the labelled sets ``tests/chatbot/data/understanding_*.jsonl`` (none of them is trained on), or on
the labelled files given as arguments (a held-out set). Load time and memory are measured in a
fresh process each (import + index build; ``VmRSS`` before and after). A candidate that is not
installed is reported as such (``pip install bm25s scikit-learn`` in a scratch environment to
compare; the app installs neither).

    .venv/bin/python bench/bench_retrieval.py [LABELLED.jsonl ...]
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "chatbot" / "data"

#: run in a fresh process: build the candidate's index, then score every question
PROBE = textwrap.dedent('''
    import json, sys, time
    sys.path.insert(0, {root!r})

    def rss():
        with open("/proc/self/status") as status:
            return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024

    questions = json.loads({questions!r})
    from chatbot import knowledge
    from chatbot.intents.topics import terms
    entries = knowledge.entries()
    base = rss()
    start = time.perf_counter()
    {build}
    load = time.perf_counter() - start
    memory = rss() - base
    right = 0
    start = time.perf_counter()
    for text, topic in questions:
        right += best(text) == topic
    per_query = (time.perf_counter() - start) / len(questions)
    print(json.dumps({{"accuracy": right / len(questions), "load": load, "memory": memory,
                      "query_us": per_query * 1e6}}))
''')

CANDIDATES = {
    "rapidfuzz alone": '''
    from chatbot.intents import topics
    index = topics._index()
    def best(text):
        ranked = index.rank(text)
        return ranked[0][0] if ranked else None
    ''',
    "exported classifier": '''
    from chatbot.intents import topic_model
    model = topic_model.load()
    def best(text):
        found = model.probabilities(text)
        return max(found, key=found.__getitem__)
    ''',
    "both blended (chosen)": '''
    from chatbot.intents import topics
    topics.warm()
    def best(text):
        ranked = topics.rank(text)
        return ranked[0][0] if ranked else None
    ''',
    "scikit-learn live": '''
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from chatbot.intents.topic_model import analyze
    from chatbot.intents.topics import training_forms
    forms = training_forms(entries)
    vectorizer = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=2)
    classifier = LogisticRegression(C=10.0, max_iter=5000).fit(
        vectorizer.fit_transform([text for _, text in forms]), [topic for topic, _ in forms])
    def best(text):
        return classifier.predict(vectorizer.transform([text]))[0]
    ''',
    "bm25s": '''
    import bm25s
    ids = [e.id for e in entries]
    docs = [[w for q in (*e.questions, e.title) for w in terms(q)] for e in entries]
    vocab = {}
    tokenized = bm25s.tokenization.Tokenized(
        ids=[[vocab.setdefault(w, len(vocab)) for w in doc] for doc in docs], vocab=vocab)
    retriever = bm25s.BM25()
    retriever.index(tokenized, show_progress=False)
    def best(text):
        found = [w for w in terms(text) if w in vocab]
        return ids[int(retriever.get_scores(found).argmax())] if found else None
    ''',
    "scikit-learn TF-IDF": '''
    from sklearn.feature_extraction.text import TfidfVectorizer
    ids = [e.id for e in entries]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform([" ".join(w for q in (*e.questions, e.title) for w in terms(q))
                                       for e in entries])
    def best(text):
        scores = (matrix @ vectorizer.transform([" ".join(terms(text))]).T).toarray().ravel()
        return ids[int(scores.argmax())]
    ''',
}


def _questions(paths: list[Path]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                topic = row.get("slots", {}).get("topic") or row.get("expect", {}).get("topic")
                if topic and row.get("intent", "help") == "help":
                    found.append((row["text"], topic))
    return found


def main() -> int:
    paths = [Path(arg) for arg in sys.argv[1:]] or [DATA / "questions_corpus.jsonl",
                                                    *sorted(DATA.glob("understanding_*.jsonl"))]
    questions = _questions(paths)
    print(f"{len(questions)} questions that name a topic ({', '.join(path.name for path in paths)}); "
          f"python {sys.version.split()[0]}\n")
    print(f"{'candidate':<22} {'accuracy':>8} {'load s':>7} {'+RSS MB':>8} {'µs/query':>9}")
    for name, build in CANDIDATES.items():
        source = PROBE.format(root=str(ROOT), questions=json.dumps(questions), build=textwrap.dedent(build).strip())
        run = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=False)
        if run.returncode != 0:
            missing = "ModuleNotFoundError" in run.stderr
            print(f"{name:<22} {'not installed' if missing else 'failed: ' + run.stderr.strip().splitlines()[-1]}")
            continue
        figures = json.loads(run.stdout.strip().splitlines()[-1])
        print(f"{name:<22} {figures['accuracy']:>8.3f} {figures['load']:>7.3f} {figures['memory']:>8.1f} "
              f"{figures['query_us']:>9.0f}")
    print("\nThe app's budget: 80 MB resident memory after start, reply p99 < 5 ms (bench_bot.py).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
