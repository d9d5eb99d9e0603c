"""The tutorial as data: what the bot can explain, one entry per concept of the offline-licensing guide.

The entries live in one data file beside this module, ``entries.toml`` (one ``[[entry]]`` each:
``id``, ``title``, ``questions``, ``answer``, ``see_also``, and ``codes``: the error codes whose
background the entry explains), written in plain words from the guide
(``shared/seed/offline-licensing-guide.txt``) as this project implements it. ``id`` is the
``topic`` slot of :func:`chatbot.intents.parse`; ``questions`` are the forms the matcher compares
a line with (:mod:`chatbot.intents.topics`); ``title`` is what the bot offers when it is unsure
("did you mean…"); ``answer`` is Markdown that may name live facts of this device in braces.

Placeholders an answer may use (:data:`PLACEHOLDERS`; the bot fills every one, see
:func:`render`): ``{request_dir}``, ``{request_file}``, ``{response_file}``,
``{deactivation_file}``, ``{refresh_file}`` (where the offline files go by default, and their
full paths), ``{data_dir}`` (this product's license storage), ``{hardware_id}`` (this device's
hardware id, what a request names), ``{respond_command}`` (the exact ``licensing-portal …
respond`` command that answers a request, or how to reach the vendor's portal when there is no
demo vendor), ``{serve_command}`` and ``{portal_url}`` (how the web portal is started and where it
answers), ``{grace_days}`` and ``{clock_tolerance_minutes}`` (this configuration's values),
``{floating_server}`` and ``{floating_command}`` (the floating server this app takes seats from, and
how an administrator serves one; the demo's own when on the demo vendor).

Beside it, ``topic_model.json``: the topic classifier trained on the question forms
(:mod:`chatbot.intents.topic_model`; train it again with ``scripts/train_topic_model.py`` after
editing the forms — a test says when it is stale).

The file is read once, on first use (``importlib.resources``, so it works from a wheel too).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Entry", "PLACEHOLDERS", "entries", "entry", "render", "topic_ids", "topic_of_code"]

DATA_FILE = "entries.toml"

#: every name an answer may put in braces
PLACEHOLDERS: frozenset[str] = frozenset({
    "request_dir", "request_file", "response_file", "deactivation_file", "refresh_file", "data_dir",
    "hardware_id", "respond_command", "serve_command", "portal_url", "grace_days", "clock_tolerance_minutes",
    "floating_server", "floating_command",
})


@dataclass(frozen=True)
class Entry:
    """One concept the bot can explain."""

    id: str
    title: str
    questions: tuple[str, ...]
    answer: str  # Markdown with {placeholders}
    see_also: tuple[str, ...]
    codes: tuple[str, ...] = ()  # the error codes this entry explains the background of


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _load(text: str) -> tuple[Entry, ...]:
    """The entries in ``text`` (TOML), checked: unique ids, known placeholders, see_also that exist."""
    found = tuple(Entry(raw["id"], raw["title"], tuple(raw["questions"]), raw["answer"].strip(),
                        tuple(raw.get("see_also", ())), tuple(raw.get("codes", ())))
                  for raw in tomllib.loads(text)["entry"])
    ids = [e.id for e in found]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate knowledge ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    for e in found:
        unknown = _placeholders(e.answer) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"knowledge entry {e.id!r} uses unknown placeholders {sorted(unknown)}")
        missing = set(e.see_also) - set(ids)
        if missing:
            raise ValueError(f"knowledge entry {e.id!r} refers to unknown entries {sorted(missing)}")
    return found


@cache
def entries() -> tuple[Entry, ...]:
    """Every entry, in file order (read and checked once)."""
    return _load(resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8"))


@cache
def _by_id() -> Mapping[str, Entry]:
    return {e.id: e for e in entries()}


def entry(topic: str) -> Entry:
    """The entry with id ``topic`` (KeyError for an unknown id)."""
    return _by_id()[topic]


@cache
def topic_of_code(code: str) -> str | None:
    """The entry that explains the background of an error code (``codes`` in the data file)."""
    return next((e.id for e in entries() if code in e.codes), None)


def topic_ids() -> tuple[str, ...]:
    return tuple(e.id for e in entries())


def render(topic: str, facts: Mapping[str, str]) -> str:
    """The answer of ``topic`` with every placeholder filled from ``facts`` (which must hold them all)."""
    return entry(topic).answer.format_map(facts)
