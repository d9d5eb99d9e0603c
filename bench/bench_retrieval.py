"""Which library matches a question to its knowledge entry: accuracy, load time, memory, speed (a script).

The candidates the issue named, each fed the same text (the matcher's own normalisation,
``chatbot.intents.topics.terms``) and the same question forms (``chatbot/knowledge/entries.toml``):

* **rapidfuzz** ``process.extract`` over the question forms — what the bot uses
  (``chatbot.intents.topics``: closeness of the best three forms, blended with rarity-weighted
  shared words);
* **bm25s** — BM25 over one document per entry (its question forms and title);
* **scikit-learn** ``TfidfVectorizer`` — character 3–5-grams, cosine, one document per entry.

Scored on every line of ``tests/chatbot/data/questions_corpus.jsonl`` and
``understanding_dev.jsonl`` that names a topic. Load time and memory are measured in a fresh
process each (import + index build; ``VmRSS`` before and after). A candidate that is not
installed is reported as such (``pip install bm25s scikit-learn`` in a scratch environment to
compare; the app installs neither).

    .venv/bin/python bench/bench_retrieval.py
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
    "rapidfuzz (chosen)": '''
    from chatbot.intents import topics
    topics.warm()
    def best(text):
        ranked = topics.rank(text)
        return ranked[0][0] if ranked else None
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


def _questions() -> list[tuple[str, str]]:
    found = []
    for line in (DATA / "questions_corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "topic" in row["expect"]:
            found.append((row["text"], row["expect"]["topic"]))
    for line in (DATA / "understanding_dev.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "topic" in row["slots"]:
            found.append((row["text"], row["slots"]["topic"]))
    return found


def main() -> int:
    questions = _questions()
    print(f"{len(questions)} questions that name a topic (corpus + dev set); python {sys.version.split()[0]}\n")
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
