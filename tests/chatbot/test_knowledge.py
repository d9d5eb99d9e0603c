"""The knowledge base (chatbot/knowledge) and the matcher over it (chatbot.intents.topics)."""

from __future__ import annotations

import math

import pytest
from test_conversation import demo_bot

from chatbot import knowledge
from chatbot.intents import topic_model, topics

from support.lab import Lab

#: the topic ids of the labelling contract (chatbot/intents/__init__.py)
CONTRACT_TOPICS = {
    "offline_activation", "request_file", "response_file", "portal", "guard_file", "hardware_binding",
    "license_types", "free_tier", "refusal_reasons", "activations", "deactivation", "move_license", "refresh",
    "local_check", "clock_tampering", "memory_vs_disk", "clear_storage", "vendor_changes", "consumption",
    "features", "hybrid", "online_vs_offline", "grace_period", "signatures", "response_reuse",
    "device_disabled", "skills", "about_bot",
    "floating_licenses", "floating_leases", "floating_borrowing", "floating_server_lost",
}


def test_every_topic_of_the_contract_has_one_entry_with_questions_and_an_answer() -> None:
    assert set(knowledge.topic_ids()) == CONTRACT_TOPICS
    for entry in knowledge.entries():
        assert len(entry.questions) >= 9 and entry.title and 200 <= len(entry.answer) <= 1200, entry.id
        assert entry.id not in entry.see_also


def test_every_answer_renders_with_the_bot_s_live_facts(lab: Lab) -> None:
    bot = demo_bot(lab)
    for topic in knowledge.topic_ids():
        reply = bot.handle(f"what is {knowledge.entry(topic).title}?")
        text = knowledge.render(topic, bot.handlers._knowledge_facts())
        assert "{" not in text and "}" not in text, topic
        assert reply.ok
    request = bot.handle("how do I activate offline?").text
    assert str(bot.manager.config.requests_dir / "ls_activation.req") in request
    assert "licensing-portal --data" in request  # the demo vendor's exact command
    assert bot.manager.hardware_id in bot.handle("why does a response only work on one computer?").text


def test_the_codes_an_entry_explains_are_real_error_codes_each_in_one_entry() -> None:
    from licensing import ERROR_CODES

    codes = [code for entry in knowledge.entries() for code in entry.codes]
    assert set(codes) <= set(ERROR_CODES) and len(codes) == len(set(codes))
    assert knowledge.topic_of_code("clock_tampered") == "clock_tampering"
    assert knowledge.topic_of_code("file_error") is None


@pytest.mark.parametrize("bad, message", [
    ('[[entry]]\nid="a"\ntitle="A"\nquestions=["q"]\nanswer="x"\n[[entry]]\nid="a"\ntitle="B"\nquestions=["q"]\n'
     'answer="y"\n', "duplicate"),
    ('[[entry]]\nid="a"\ntitle="A"\nquestions=["q"]\nanswer="see {nowhere}"\n', "unknown placeholders"),
    ('[[entry]]\nid="a"\ntitle="A"\nquestions=["q"]\nanswer="x"\nsee_also=["b"]\n', "unknown entries"),
])
def test_a_broken_data_file_is_refused_with_the_reason(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        knowledge._load(bad)


def test_each_entry_is_found_by_its_own_question_forms() -> None:
    forms = [(q, e.id) for e in knowledge.entries() for q in e.questions]
    found = sum(topics.match(q).topic == topic for q, topic in forms)
    assert found / len(forms) >= 0.9


@pytest.mark.parametrize("text", ["I love pizza", "what's the weather like", "the quick brown fox"])
def test_off_topic_lines_match_no_entry(text: str) -> None:
    assert topics.match(text).topic is None


def test_an_unsure_match_offers_the_closest_entries_best_first() -> None:
    found = topics.match("what went wrong with the lic file")
    ranked = [topic for topic, _ in topics.rank("what went wrong with the lic file")]
    assert found.topic is None and len(found.closest) >= 2
    assert list(found.closest) == ranked[:len(found.closest)]


def test_the_topic_classifier_was_trained_on_the_question_forms_of_today() -> None:
    # after editing the forms: python scripts/train_topic_model.py (needs scikit-learn)
    forms = topics.training_forms(knowledge.entries())
    assert topic_model.load().digest == topic_model.forms_digest(forms)


def test_the_topic_classifier_knows_every_entry_and_its_probabilities_sum_to_one() -> None:
    model = topic_model.load()
    assert sorted(model.classes) == sorted(entry.id for entry in knowledge.entries())
    probabilities = model.probabilities("where does the guard file live and what does it protect")
    assert abs(sum(probabilities.values()) - 1) < 1e-9
    assert max(probabilities, key=probabilities.__getitem__) == "guard_file"
    exp = [math.exp(value) for value in model.intercept]
    assert list(model.probabilities("").values()) == pytest.approx([value / sum(exp) for value in exp])  # the priors


def test_the_topic_classifier_round_trips_through_its_file() -> None:
    model = topic_model.load()
    again = topic_model.TopicModel.from_json(model.to_json())
    assert again.probabilities("can I edit the license file") == model.probabilities("can I edit the license file")
