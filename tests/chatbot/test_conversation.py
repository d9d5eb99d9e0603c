"""The bot in conversation, over the real engine and a real vendor (the ``lab``).

* the question corpus (``data/questions_corpus.jsonl``, 160 questions a tutorial reader or a user
  asks): each answer must carry the knowledge entry or the license fact it is about;
* multi-turn dialogues: "done" completes the pending step, "yes"/"no" answer a confirmation,
  "why?" explains the last refusal, follow-ups reuse the last slots, "the second one" picks from
  the list just shown, small talk keeps the pending step;
* questions are never executed: no question — however close to a destructive command — starts or
  proposes deactivation, clearing or quitting, and a skill never runs on a question about it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest

from chatbot.bot import Bot, DemoContext, Reply
from chatbot.intents import DESTRUCTIVE_INTENTS

from support.lab import Lab

DATA = Path(__file__).parent / "data"


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def demo_bot(lab: Lab) -> Bot:
    """A bot with a demo-like vendor: a few labelled licenses, and the portal command for them."""
    labels = {"perpetual": lab.issue("perpetual", features=("jokes", "convert", "wordcount"), max_activations=3),
              "time-based": lab.issue("time-based", features=("jokes",)),
              "consumption": lab.issue("consumption", features=("jokes",), max_consumptions=5)}
    demo = DemoContext(lab.root / "vendor", tuple((label, key, f"a {label} license") for label, key in labels.items()),
                       portal_program="licensing-portal")
    bot = Bot(lab.manager("device-A"), demo=demo, rng=random.Random(3), local_tz=timezone.utc, debug=True)
    bot.keys = labels  # type: ignore[attr-defined]
    return bot


def licensed_bot(lab: Lab) -> Bot:
    bot = demo_bot(lab)
    step1 = bot.handle(f"activate offline {bot.keys['perpetual']}")  # type: ignore[attr-defined]
    lab.respond(Path(step1.data["path"]))
    assert bot.handle("activate offline").data.get("step") == 2
    return bot


def expect(reply: Reply, **wanted: Any) -> None:
    """The reply's intent / ok / data items / text fragments are as wanted."""
    for name, value in wanted.items():
        if name == "text":
            for fragment in (value,) if isinstance(value, str) else value:
                assert fragment in reply.text, (fragment, reply.text)
        elif name == "not_text":
            assert value not in reply.text, (value, reply.text)
        elif name in ("intent", "ok"):
            assert getattr(reply, name) == value, (name, reply)
        else:
            assert reply.data.get(name) == value, (name, reply.data, reply.text)


# -- the question corpus -----------------------------------------------------------------------------

CORPUS = _rows("questions_corpus.jsonl")


def test_the_corpus_is_large_and_covers_every_topic_and_fact() -> None:
    from chatbot import knowledge
    from chatbot.intents import FACT_NAMES

    assert len(CORPUS) >= 150
    assert {row["expect"]["topic"] for row in CORPUS if "topic" in row["expect"]} == set(knowledge.topic_ids())
    assert {row["expect"]["fact"] for row in CORPUS if "fact" in row["expect"]} == set(FACT_NAMES)


def test_the_corpus_is_answered_with_the_right_topic_or_fact(lab: Lab, capsys: pytest.CaptureFixture[str]) -> None:
    """Each question's answer carries its topic or fact; a few misses are allowed (the matcher is not perfect),
    and a miss is then an offer of the closest topics or a nearby entry, never an action."""
    bot = licensed_bot(lab)
    misses = []
    for row in CORPUS:
        reply = bot.handle(row["text"])
        assert reply.intent in ("help", "license_status"), (row["text"], reply.intent)
        if any(reply.data.get(name) != value for name, value in row["expect"].items()):
            misses.append(f"{row['text']!r}: wanted {row['expect']}, got {dict(reply.data)}")
    rate = 1 - len(misses) / len(CORPUS)
    with capsys.disabled():
        print(f"\ncorpus: {len(CORPUS) - len(misses)}/{len(CORPUS)} = {rate:.1%}")
    assert rate >= 0.93, "\n".join(misses)
    assert bot.held_license() is not None  # nothing asked was executed


# -- questions are never executed ----------------------------------------------------------------------

#: every line of the corpus and the labelled sets (dev; v1, v4, v6, v7 and v8, each scored blind once; the probes
#: written while fixing what v1 revealed) that is a question or close to a destructive command
QUESTIONS = [row["text"] for row in CORPUS] + [
    row["text"] for name in ("understanding_dev.jsonl", "understanding_v1.jsonl", "understanding_probe.jsonl",
                             "understanding_v4.jsonl", "understanding_v6.jsonl",
                             "understanding_v7.jsonl", "understanding_v8.jsonl")
    for row in _rows(name)
    if row["kind"] in ("question_concept", "question_fact", "question_license", "near_destructive", "one_word", "typo",
                       "small_talk")
    and row["intent"] not in DESTRUCTIVE_INTENTS]


def test_no_question_starts_or_proposes_a_destructive_action(lab: Lab) -> None:
    bot = licensed_bot(lab)
    license_file = next(bot.manager.config.product_dir.glob("license*"))
    for text in QUESTIONS:
        reply = bot.handle(text)
        assert reply.intent not in DESTRUCTIVE_INTENTS - {"quit"}, (text, reply)
        assert reply.data.get("awaiting") != "confirm", (text, reply.text)
        assert not reply.quit or text.lower().startswith(("bye", "thanks, bye")), text
        assert "yes** to" not in reply.text, (text, reply.text)
    assert license_file.exists() and bot.held_license() is not None


@pytest.mark.parametrize("text", [
    "is the wordcount feature included?", "does word count need a feature?", "why can't you count words?",
    "what does the dice skill need", "is the convert feature on my license", "can I use the joke skill?",
])
def test_a_skill_never_runs_on_a_question_about_it(lab: Lab, text: str) -> None:
    bot = licensed_bot(lab)
    reply = bot.handle(text)
    assert reply.intent in ("help", "license_status"), reply
    assert "words" not in reply.text.split("\n")[0] or "word" in text


@pytest.mark.parametrize("text, topic", [
    ("I deleted the license files but the app still says I'm licensed, why?", "memory_vs_disk"),
    ("where do I get license_refresh.lic?", "refresh"),
    ("I got a new laptop, how do I move my license?", "move_license"),
    ("what happens if I clear local storage?", "clear_storage"),
    ("can I deactivate offline and keep using the app?", "deactivation"),
    ("what is a guard file?", "guard_file"),
    ("what happens if I set my clock back?", "clock_tampering"),
    ("can the same response file be used twice?", "response_reuse"),
    ("what is hybrid mode?", "hybrid"),
])
def test_the_questions_of_the_issue_are_answered_from_knowledge(lab: Lab, text: str, topic: str) -> None:
    bot = licensed_bot(lab)
    expect(bot.handle(text), intent="help", topic=topic, ok=True)
    assert bot.state.pending is None


# -- multi-turn dialogues ----------------------------------------------------------------------------------

Step = tuple[str, dict[str, Any]]
Dialogue = Callable[[Lab, Bot], list[Step]]


def _respond_to_request(lab: Lab, bot: Bot) -> None:
    lab.respond(bot.manager.config.requests_dir / "ls_activation.req")


def run_dialogue(lab: Lab, bot: Bot, steps: list[Any]) -> None:
    """Each step is (line, expectations) or a callable run between lines (the vendor answering, say)."""
    for step in steps:
        if callable(step):
            step(lab, bot)
            continue
        line, wanted = step
        expect(bot.handle(line), **wanted)


def K(label: str) -> Callable[[Bot], str]:
    return lambda bot: bot.keys[label]  # type: ignore[attr-defined]


DIALOGUES: dict[str, tuple[bool, list[Any]]] = {
    # -- "done" / "next" complete the pending step
    "done completes step 2": (False, [
        ("activate offline {perpetual}", {"step": 1}), _respond_to_request, ("done", {"step": 2, "ok": True})]),
    "ok I have the lic file now": (False, [
        ("activate offline {perpetual}", {"step": 1}), _respond_to_request,
        ("ok I have the lic file now", {"step": 2})]),
    "next": (False, [("activate offline {perpetual}", {"step": 1}), _respond_to_request, ("next", {"step": 2})]),
    "I uploaded it and got the file": (False, [
        ("activate offline {perpetual}", {"step": 1}), _respond_to_request,
        ("I uploaded it and got the file", {"step": 2})]),
    "done too early, then done again": (False, [
        ("activate offline {perpetual}", {"step": 1}),
        ("done", {"ok": False, "code": "file_not_found"}), _respond_to_request, ("done", {"step": 2})]),
    "done after giving the key when asked": (False, [
        ("activate offline", {"awaiting": "license_id"}), ("{perpetual}", {"step": 1}), _respond_to_request,
        ("finished", {"step": 2})]),
    "done with nothing pending": (True, [("done", {"intent": "unknown", "text": "Nothing is waiting"})]),
    # -- small talk keeps the pending step
    "thanks in the middle of the activation": (False, [
        ("activate offline {perpetual}", {"step": 1}), ("thanks", {"text": ["welcome", "done"]}),
        _respond_to_request, ("done", {"step": 2})]),
    "hi in the middle of the activation": (False, [
        ("activate offline {perpetual}", {"step": 1}), ("hi", {"intent": "help"}), _respond_to_request,
        ("done", {"step": 2})]),
    "who are you in the middle of the activation": (False, [
        ("activate offline {perpetual}", {"step": 1}), ("who are you?", {"topic": "about_bot"}),
        _respond_to_request, ("next", {"step": 2})]),
    "a question in the middle of the activation": (False, [
        ("activate offline {perpetual}", {"step": 1}), ("what is a guard file?", {"topic": "guard_file"}),
        _respond_to_request, ("done", {"step": 2})]),
    "a fact question while asked for a key": (False, [
        ("activate offline", {"awaiting": "license_id"}), ("what's my device id?", {"fact": "device_id"}),
        ("{perpetual}", {"step": 1})]),
    # -- yes / no answer a confirmation
    "deactivate, yes please": (True, [
        ("deactivate offline", {"awaiting": "confirm"}), ("yes please", {"intent": "confirm", "route": "offline"}),
        ("am I licensed?", {"licensed": False})]),
    "deactivate, nope": (True, [
        ("deactivate offline", {"awaiting": "confirm"}), ("nope", {"intent": "cancel"}),
        ("am I licensed?", {"licensed": True})]),
    "clear storage, no": (True, [
        ("clear local storage", {"awaiting": "confirm"}), ("no", {"intent": "cancel"}),
        ("am I licensed?", {"licensed": True})]),
    "clear storage, sure": (True, [
        ("clear local storage", {"awaiting": "confirm"}), ("sure", {"intent": "confirm"}),
        ("am I licensed?", {"licensed": False})]),
    "a typo of deactivate is still confirmed": (True, [
        ("deactvate offline", {"awaiting": "confirm"}), ("cancel", {"intent": "cancel"}),
        ("am I licensed?", {"licensed": True})]),
    "yes with nothing asked": (True, [("yes", {"intent": "unknown", "text": "nothing to say yes to"}),
                                      ("am I licensed?", {"licensed": True})]),
    # -- "why?" explains the last refusal
    "why after a refused skill": (False, [
        ("tell me a joke", {"ok": False, "code": "no_license"}), ("why?", {"topic": "why", "code": "no_license"})]),
    "why not after a missing feature": (True, [
        ("roll a d6", {"ok": False, "code": "feature_not_found"}),
        ("why not?", {"topic": "why", "code": "feature_not_found"})]),
    "why with nothing refused": (True, [("why?", {"topic": "why", "text": "nothing to explain"})]),
    # -- follow-ups reuse the last slots
    "convert, and in meters": (True, [
        ("convert 5 km to miles", {"text": "3.1"}), ("and in meters?", {"text": "5,000"})]),
    "convert, what about 10 km": (True, [
        ("convert 5 km to miles", {"text": "3.1"}), ("what about 10 km?", {"text": "6.2"})]),
    "fact, and the device id": (True, [
        ("how many activations are left?", {"fact": "activations", "text": "1 of 3"}),
        ("and my device id?", {"fact": "device_id"})]),
    # -- references pick from the list just shown
    "keys, the perpetual one": (False, [
        ("which keys can I use?", {"topic": "keys"}), ("the perpetual one", {"label": "perpetual"})]),
    "keys, the second one": (False, [
        ("which keys can I use?", {"topic": "keys"}), ("the second one", {"label": "time-based"})]),
    "keys, a question about one then the time-based one": (False, [
        ("which keys can I use?", {"topic": "keys"}), ("the consumption one", {"label": "consumption"}),
        ("and the time-based one?", {"label": "time-based"})]),
    "keys, the last one": (False, [
        ("which keys can I use?", {"topic": "keys"}), ("the last one", {"label": "consumption"})]),
    "asked for a key, pick it from the list": (False, [
        ("activate offline", {"awaiting": "license_id"}), ("which keys can I use?", {"topic": "keys"}),
        ("the perpetual one", {"step": 1})]),
    "clarify, the second one": (False, [
        ("activate", {"awaiting": "clarify"}), ("the second one", {"awaiting": "license_id"})]),
    "clarify, 2": (False, [("activate", {"awaiting": "clarify"}), ("2", {"awaiting": "license_id"})]),
    "knowledge, then a related entry by number": (False, [
        ("what is a guard file?", {"topic": "guard_file"}), ("1", {"topic": "response_reuse"})]),
    "nothing shown, the second one": (False, [("the second one", {"ok": False, "text": "not shown a list"})]),
    # -- ends
    "thanks, bye": (False, [("thanks, bye", {"intent": "quit"})]),
}


@pytest.mark.parametrize("name", list(DIALOGUES))
def test_dialogue(lab: Lab, name: str) -> None:
    licensed, steps = DIALOGUES[name]
    bot = licensed_bot(lab) if licensed else demo_bot(lab)
    keys = bot.keys  # type: ignore[attr-defined]
    run_dialogue(lab, bot, [step if callable(step) else (step[0].format(**keys), step[1]) for step in steps])


def test_there_are_at_least_thirty_dialogues() -> None:
    assert sum(1 for _, steps in DIALOGUES.values() if len([s for s in steps if not callable(s)]) >= 1) >= 30
    assert sum(1 for _, steps in DIALOGUES.values() if len(steps) >= 2) >= 30


def test_one_close_topic_is_asked_about_and_a_yes_reads_it(lab: Lab) -> None:
    bot = demo_bot(lab)
    # a line the matcher is unsure of, with one entry close (as for the line above: choose another if that changes)
    offered = bot.handle("how do I wipe everything and start over?")
    assert offered.data["topics"] == ["clear_storage"] and offered.text.startswith("Do you mean **"), offered.text
    expect(bot.handle("yes"), topic="clear_storage", intent="help")
    bot.handle("how do I wipe everything and start over?")
    bot.handle("status")
    assert bot.handle("yes").intent != "help"  # only right after the question


def test_the_closest_topics_are_offered_when_unsure_and_picked_by_number(lab: Lab) -> None:
    bot = demo_bot(lab)
    # an ambiguous line (the response file? a refusal? a signature?), as on transcript page 12: should the matcher
    # ever be sure of it, choose another line that it is not sure of, here and there
    offered = bot.handle("what went wrong with the lic file")
    assert len(offered.data["topics"]) >= 2, offered.text
    first = offered.data["topics"][1]
    expect(bot.handle("2"), topic=first, intent="help")
