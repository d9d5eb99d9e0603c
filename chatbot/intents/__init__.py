"""Pure intent parser for the licensing chatbot.

``parse(text) -> Intent`` maps one user utterance to an intent name, the slot
values the user actually typed, and (for ``clarify`` / ``unknown``) the intent
names the bot may offer next.  It is deterministic, performs no I/O, keeps no
mutable global state, and everything it needs (regexes, vocabulary, typo
tables) is built once at import time.

Pipeline
--------
1. **Whole-utterance skills.**  Word count and unit conversion are recognised
   with regexes on the text as typed, because their slots (the text to count,
   unit names) must be returned verbatim, including case.
2. **Slot extraction.**  Quoted strings that look like paths, unquoted paths
   (``~/…``, ``/…``, ``C:\\…``, anything ending in ``.lic``/``.req`` - spaces are
   allowed when the path is anchored and ends in one of those extensions) and
   license keys (``XXXX-XXXX-XXXX-XXXX``) are pulled out and removed from the
   text, so they can neither be typo-corrected nor mistaken for words.
3. **Tokenising.**  The rest is lower-cased, a few multi-word spellings are
   merged (``off-line`` -> ``offline``, ``good bye`` -> ``goodbye``),
   contractions are expanded and number words become digits
   (``twenty five`` -> ``25``).
4. **Typo correction.**  Each unknown alphabetic token of length >= 4 is
   matched against the bot's own small command vocabulary: first an exact
   table of adjacent-letter transpositions (``qiut`` -> ``quit``; the Indel
   ratio scores those at only 75 % for short words), then
   ``rapidfuzz.process.extractOne`` with ``fuzz.ratio`` and a cutoff of 80,
   among command words that share the token's first letter and whose length
   differs by at most one (typos rarely hit the first letter; without this
   guard "mode" became "module", "failed" became "file", "unclear" became
   "clear").  A few hundred common English words, and every word the rules
   themselves look for, are never corrected, so ``please`` cannot become
   ``release`` nor ``clean`` become ``clear``.
5. **Canonicalising.**  Surface forms map to concepts (``licence`` ->
   ``license``, ``register`` -> ``activate``, ``unregister`` ->
   ``deactivate``).
6. **Keyword rules.**  An ordered list of small rule functions; the first that
   fires decides the intent.  Slots are then attached for that intent.

Why destructive intents are never fuzzy-guessed
-----------------------------------------------
``deactivate_online``, ``deactivate_offline``, ``clear_storage`` and ``quit``
lose a seat, local license data or the session.  A typo corrector is a guess,
and a wrong guess here is expensive and hard to undo, whereas asking costs one
extra turn.  So when the rules pick a destructive intent (or a ``clarify``
that offers one) and typo correction changed the input, the rules are re-run
on the uncorrected tokens; if that reading does not agree, the result is
``clarify`` offering the corrected reading's intents first, then whatever the
uncorrected reading offers ("qiut" -> clarify ("quit",); "deactivate offlne"
-> clarify ("deactivate_offline", "deactivate_online")).  Non-destructive
intents may be chosen on a fuzzy guess ("actvate offlne" -> activate_offline).
"""

from __future__ import annotations

from .model import (
    ACT_NAMES,
    ACTIVATE_OFFLINE,
    ACTIVATE_ONLINE,
    AFFIRM,
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
    FOLLOW_UP,
    GREET,
    HELP,
    INTENT_NAMES,
    IS_ONLINE,
    LICENSE_STATUS,
    LIST_FEATURES,
    LOCAL_CHECK,
    QUIT,
    REFRESH_OFFLINE,
    RELOAD_LICENSE,
    SELECT,
    SKILL_CONVERT,
    SKILL_DICE,
    SKILL_JOKE,
    SKILL_TIME,
    SKILL_WORDCOUNT,
    SLOT_NAMES,
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
]
