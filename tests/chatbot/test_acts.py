"""Dialogue acts, read from the line alone (chatbot.intents.acts): the table of the contract, rule 6."""

from __future__ import annotations

import pytest

from chatbot.intents import ACT_NAMES, parse

ACTS = [
    ("hi", "help", {}, "greet"), ("hello there", "help", {}, "greet"), ("good morning", "help", {}, "greet"),
    ("thanks", "unknown", {}, "thank"), ("thank you so much", "unknown", {}, "thank"), ("ty", "unknown", {}, "thank"),
    ("cheers", "unknown", {}, "thank"),
    ("bye", "quit", {}, "bye"), ("thanks, bye", "quit", {}, "bye"), ("see you later", "quit", {}, "bye"),
    ("yes", "unknown", {}, "affirm"), ("yes please", "unknown", {}, "affirm"), ("ok do it", "unknown", {}, "affirm"),
    ("y", "unknown", {}, "affirm"), ("sure", "unknown", {}, "affirm"),
    ("no", "unknown", {}, "deny"), ("nope", "unknown", {}, "deny"), ("cancel", "unknown", {}, "deny"),
    ("n", "unknown", {}, "deny"), ("don't", "unknown", {}, "deny"), ("no, leave it", "unknown", {}, "deny"),
    ("done", "unknown", {}, "done"), ("next", "unknown", {}, "done"), ("ok I have it", "unknown", {}, "done"),
    ("ok I have the lic file now", "unknown", {}, "done"), ("I uploaded it and got the file", "unknown", {}, "done"),
    ("finished", "unknown", {}, "done"),
    ("why?", "unknown", {}, "why"), ("why not?", "unknown", {}, "why"), ("how come?", "unknown", {}, "why"),
    ("and in meters?", "skill_convert", {"unit_to": "meters"}, "follow_up"),
    ("what about feet?", "skill_convert", {"unit_to": "feet"}, "follow_up"),
    ("and 10 km?", "skill_convert", {"value": 10, "unit_from": "km"}, "follow_up"),
    ("and the time-based one?", "unknown", {"choice": "time-based"}, "follow_up"),
    ("the perpetual one", "unknown", {"choice": "perpetual"}, "select"),
    ("the second one", "unknown", {"choice": 2}, "select"), ("number 3", "unknown", {"choice": 3}, "select"),
    ("the last one", "unknown", {"choice": -1}, "select"), ("2", "unknown", {"choice": 2}, "select"),
    ("the first one i think", "unknown", {"choice": 1}, "select"), ("third one plz", "unknown", {"choice": 3}, "select"),
    ("continue pls", "unknown", {}, "done"), ("option two", "unknown", {"choice": 2}, "select"),
    ("and what about my device id?", "license_status", {"fact": "device_id"}, "follow_up"),
    ("what about the guard file?", "help", {"topic": "guard_file"}, "follow_up"),
]


@pytest.mark.parametrize("text, name, slots, act", ACTS)
def test_act(text: str, name: str, slots: dict, act: str) -> None:
    result = parse(text)
    assert (result.name, dict(result.slots), result.act) == (name, slots, act)


def test_every_act_is_in_the_table() -> None:
    assert {act for *_, act in ACTS} == set(ACT_NAMES)


@pytest.mark.parametrize("text, name, slots", [
    ("hi, what is a guard file?", "help", {"topic": "guard_file"}),
    ("thanks! how do I refresh my license?", "help", {"topic": "refresh"}),
    ("hey, activate offline", "activate_offline", {}),
])
def test_a_greeting_or_thanks_before_a_real_line_is_dropped(text: str, name: str, slots: dict) -> None:
    result = parse(text)
    assert (result.name, dict(result.slots), result.act) == (name, slots, None)


@pytest.mark.parametrize("text", ["explain", "why is the license file signed?", "yes I want to deactivate offline",
                                  "no internet here, how do I activate?"])
def test_a_longer_line_is_not_an_act(text: str) -> None:
    assert parse(text).act is None


@pytest.mark.parametrize("text, act", [
    ("thanx!", "thank"), ("tnx", "thank"), ("thnaks a lot", "thank"), ("thank yuo", "thank"), ("finsihed", "done"),
    ("uploaded the request and downloaded the lic", "done"), ("got the response file back", "done"), ("hlelo", "greet"),
])
def test_chat_spellings_and_typos_of_an_act_are_that_act(text: str, act: str) -> None:
    assert parse(text).act == act


@pytest.mark.parametrize("text", ["yse", "yess pleas", "goodbey", "byee", "conifrm"])
def test_a_typo_never_confirms_or_leaves(text: str) -> None:
    """A "yes" confirms a deactivation and a "bye" ends the session: neither is read from a typo."""
    result = parse(text)
    assert result.act not in ("affirm", "bye") and result.name != "quit", result
