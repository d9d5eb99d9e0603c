"""The chatbot's one understanding layer: ``parse(text) -> Intent``.

This docstring is the labelling contract (it extends ``shared/DESIGN.md`` §4); the tests, the
labelled sets in ``tests/chatbot/data`` and ``bench/eval_understanding.py`` follow it.

What ``parse`` is
=================
Pure, deterministic and context-free: it never sees the conversation (the dialogue manager,
:mod:`chatbot.dialogue`, resolves what a line means *here*). No I/O per call — the knowledge
index is built once, from the packaged ``chatbot/knowledge/entries.toml``, on the first question
or ahead of time with :func:`warm`. Well under a millisecond. Never raises for a ``str``.

The :class:`Intent`
-------------------
* ``name``: one of ``activate_online, activate_offline, create_activation_request,
  deactivate_online, deactivate_offline, refresh_offline, check_online, local_check,
  license_status, list_features, consume, is_online, clear_storage, reload_license, help, quit,
  skill_joke, skill_wordcount, skill_convert, skill_dice, skill_time, unknown, clarify``; and for
  floating licenses (seats from the floating server at the site): ``request_seat, release_seat,
  borrow_seat, return_borrowed_seat, list_seats, start_floating_server, stop_floating_server``.
* ``slots``: only values the user typed, nothing defaulted:

  - ``path`` (as typed, quotes stripped, ``~`` not expanded; may hold spaces or a Windows path),
    ``key`` (``XXXX-XXXX-XXXX-XXXX`` as typed), ``count`` (int; digits or number words),
    ``sides`` (dice), ``value`` / ``unit_from`` / ``unit_to`` (conversion), ``text`` (word count),
    ``duration`` (``borrow_seat``: how long, in whole seconds, from what was typed: "for 3 days" →
    259200, "a week", "36 hours", "72h", "half a day");
  - ``topic`` (``help``): the knowledge entry the line asks about (:mod:`chatbot.knowledge`);
  - ``fact`` (``license_status``): the fact of the held license asked for — ``activations``,
    ``device_id``, ``license_key``, ``license_type``, ``expiry``, ``feature`` (with ``feature``:
    the code as typed, lower-cased), ``consumption``, ``last_check``, ``server_contact``, ``seat``
    (the floating seat held: "do I have a seat?", "how long does my lease last?", "is my seat
    borrowed?"); absent for "am I licensed?", "why am I not licensed?", "status";
  - ``choice`` (acts ``select`` / ``follow_up``): which item of the list just shown — an int for
    an ordinal ("the second one" → 2, "number 3" → 3, "the last one" → -1) or a license kind as
    typed, lower-cased ("the perpetual one" → "perpetual").
* ``act``: the dialogue act or None — ``greet``, ``thank``, ``bye``, ``affirm``, ``deny``,
  ``done``, ``follow_up``, ``why``, ``select``.
* ``candidates``: the intents a ``clarify`` offers (``("help",)`` for ``unknown``).
* Not slots, but what the line mentions: ``closest`` (a question no entry answers for sure: the
  nearest entries, to offer instead of guessing), ``code`` (an error code pasted from the portal),
  ``credentials`` (``user NAME password PASSWORD`` for a user-based license).

Labelling rules
===============
1. A license key with no file means ``activate_online`` ("activate ABCD-…", or a bare key).
2. A ``.lic`` path with "activate" means ``activate_offline``; making the ``.req`` is
   ``create_activation_request``; a bare ``.lic`` path is ``clarify`` (activate or refresh?);
   "activate" alone is ``clarify`` (online or offline?).
3. "am I licensed?", "status", "why am I not licensed?", "why can't I activate?" →
   ``license_status`` with no ``fact``.
4. **A question is never an action intent.** A question about a concept → ``help`` with
   ``topic`` when one entry fits ("what is a guard file?", "how do I move my license to a new
   computer?", "can I edit the license file?", "what happens if I deactivate?"); "how do I
   activate offline?" is ``help`` + topic, not the action; no fitting entry → ``help`` without a
   topic. A request for an explanation is a question ("walk me through offline activation", "show
   me how to refresh"), and so is an embedded one ("could you tell me whether I'm licensed?" →
   ``license_status``). A question about the license held → ``license_status`` + ``fact``; one
   that names a fact but asks about the concept is ``help`` ("what is the hardware id used for?",
   "how long is the grace period?"), and so is one that names a skill but asks about licensing
   ("is the clock check done in UTC?" is not the time). "is the server reachable?", "am I
   online?" → ``is_online``; "which features do I have?" → ``list_features``.
5. Imperatives run: "activate offline", "clear local storage", "tell me a joke", "convert 5 km
   to miles". A polite request is still one ("could you deactivate my license offline?", "please
   refresh"): the test is whether the user asks the bot to do it now, or asks about it.
6. Dialogue acts are read from the line alone: "hi" → ``help``/greet; "thanks" →
   ``unknown``/thank; "bye", "thanks, bye" → ``quit``/bye; "yes", "ok do it" → ``unknown``/affirm;
   "no", "cancel" → ``unknown``/deny; "done", "next", "ok I have the lic file now" →
   ``unknown``/done; "why?", "why not?" → ``unknown``/why; "and in meters?" → ``skill_convert``/
   follow_up + ``unit_to``; "and 10 km?" → ``skill_convert``/follow_up + ``value``, ``unit_from``;
   "and the time-based one?" → ``unknown``/follow_up + ``choice``; "the perpetual one", "the
   second one", "number 3" → ``unknown``/select + ``choice``; "who are you?" → ``help`` +
   ``about_bot``; "what can you do?", "how do I quit?" → ``help``, no topic (the bot's own use).
   Chat spellings and typos of a greeting, thanks, done, why or no are that act ("thnx",
   "finshed"); a yes or a bye is read only as typed.
7. ``unknown``: buying, pricing, accounts, anything off-topic the bot has no skill for.
8. ``clarify`` is for an unclear *intent*, never for a missing slot (the handler asks for that).
9. Destructive intents (``deactivate_online``, ``deactivate_offline``, ``clear_storage``,
   ``quit``): a question never gets one (except ``quit`` with act ``bye``). ``quit`` is never
   chosen on a typo correction alone; a typo of a deactivation or of clearing may be read as it,
   because the bot confirms those before they run.
10. Floating seats. "get a seat", "take a floating seat", "check out a seat", "I need a seat" →
    ``request_seat``; "release my seat", "give my seat back", "free up my seat" → ``release_seat``
    (but "release the seat online/offline" gives an *activation* back: ``deactivate_*``); "borrow
    a seat for 3 days" → ``borrow_seat`` + ``duration`` ("borrow a seat" alone: no slot, the
    handler asks how long); "return the borrowed seat", "give back the borrowed seat" →
    ``return_borrowed_seat``; "how many seats are free?", "who holds the seats?", "seats", "is
    the floating server running?" → ``list_seats`` (a question about the seats is answered by
    it, like ``is_online``); "start/stop the floating server" → ``start_floating_server`` /
    ``stop_floating_server`` (the demo's). As everywhere, a question is not an action: "can I
    borrow a seat?", "how do I get a seat?", "what happens if the floating server goes down?" →
    ``help`` + topic (``floating_licenses``, ``floating_leases``, ``floating_borrowing``,
    ``floating_server_lost``). None of these is destructive: a live seat given back is taken again with
    one line, and the bot confirms giving back a *borrowed* seat before it does.

The package, by section
=======================
:mod:`.model` (names and the Intent), :mod:`.vocabulary`, :mod:`.patterns`, :mod:`.numbers`,
:mod:`.extract` (paths and keys), :mod:`.tokens` (tokenising, typo correction), :mod:`.rules`
(the command rules: an ordered table), :mod:`.slots`, :mod:`.acts` (the dialogue-act table),
:mod:`.questions` (question or request), :mod:`.facts` (the fact table), :mod:`.mentions` (error
codes, credentials), :mod:`.topics` (which knowledge entry, with the classifier of :mod:`.topic_model`), :mod:`.parser` (the pipeline). A new
group of intents is a few names in ``model``, rows in the rule table and words in the vocabulary.
"""

from __future__ import annotations

from .model import (
    ACT_NAMES,
    ACTIVATE_OFFLINE,
    ACTIVATE_ONLINE,
    AFFIRM,
    BORROW_SEAT,
    BYE,
    CHECK_ONLINE,
    CLARIFY,
    CLEAR_STORAGE,
    CONSUME,
    CREATE_ACTIVATION_REQUEST,
    DEACTIVATE_OFFLINE,
    DEACTIVATE_ONLINE,
    DENY,
    DESTRUCTIVE_INTENTS,
    DONE,
    FACT_NAMES,
    FLOATING_INTENTS,
    FOLLOW_UP,
    GREET,
    HELP,
    INTENT_NAMES,
    IS_ONLINE,
    LICENSE_STATUS,
    LIST_FEATURES,
    LIST_SEATS,
    LOCAL_CHECK,
    QUIT,
    REFRESH_OFFLINE,
    RELEASE_SEAT,
    RELOAD_LICENSE,
    REQUEST_SEAT,
    RETURN_BORROWED_SEAT,
    SELECT,
    SKILL_CONVERT,
    SKILL_DICE,
    SKILL_JOKE,
    SKILL_TIME,
    SKILL_WORDCOUNT,
    SLOT_NAMES,
    START_FLOATING_SERVER,
    STOP_FLOATING_SERVER,
    THANK,
    UNKNOWN,
    WHY,
    Credentials,
    Intent,
)
from .parser import ACTIONS, parse
from .topics import warm

__all__ = [
    "Intent",
    "Credentials",
    "parse",
    "warm",
    "ACTIONS",
    "ACT_NAMES",
    "FACT_NAMES",
    "GREET",
    "THANK",
    "BYE",
    "AFFIRM",
    "DENY",
    "DONE",
    "FOLLOW_UP",
    "WHY",
    "SELECT",
    "INTENT_NAMES",
    "DESTRUCTIVE_INTENTS",
    "SLOT_NAMES",
    "ACTIVATE_ONLINE",
    "ACTIVATE_OFFLINE",
    "CREATE_ACTIVATION_REQUEST",
    "DEACTIVATE_ONLINE",
    "DEACTIVATE_OFFLINE",
    "REFRESH_OFFLINE",
    "CHECK_ONLINE",
    "LOCAL_CHECK",
    "LICENSE_STATUS",
    "LIST_FEATURES",
    "CONSUME",
    "IS_ONLINE",
    "CLEAR_STORAGE",
    "RELOAD_LICENSE",
    "HELP",
    "QUIT",
    "SKILL_JOKE",
    "SKILL_WORDCOUNT",
    "SKILL_CONVERT",
    "SKILL_DICE",
    "SKILL_TIME",
    "UNKNOWN",
    "CLARIFY",
    "FLOATING_INTENTS",
    "REQUEST_SEAT",
    "RELEASE_SEAT",
    "BORROW_SEAT",
    "RETURN_BORROWED_SEAT",
    "LIST_SEATS",
    "START_FLOATING_SERVER",
    "STOP_FLOATING_SERVER",
]
