"""Dialogue acts: whole lines that do something in the conversation rather than ask for an action.

"hi", "thanks", "bye", "yes", "no", "done", "why?", "the second one", "and in meters?": each is
recognised here from the line alone (the parser never sees the conversation) and returned with
its act; the dialogue manager resolves it against its state — what was asked, which step is
pending, which list was shown, what was refused.

The acts are one table, :data:`ACT_TABLE`: (act, intent, pattern). A pattern matches the whole
line after :func:`normalise` (lower case, straight apostrophes, punctuation dropped, spaces
collapsed); its named groups become slots (``to``/``num``/``from`` for a conversion follow-up,
``ordinal``/``number``/``kind`` for a choice). A new act, or a new way to say one, is a row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from rapidfuzz import fuzz

from .model import (
    AFFIRM,
    BYE,
    DENY,
    DONE,
    FOLLOW_UP,
    GREET,
    HELP,
    QUIT,
    SELECT,
    SKILL_CONVERT,
    THANK,
    UNKNOWN,
    WHY,
    Intent,
)
from .numbers import _to_number
from .patterns import _NUM_PAT, _UNIT_PAT
from .tokens import _KNOWN

__all__ = ["ACT_TABLE", "CHOICE_KINDS", "FOLLOW_UP_PREFIX", "GREETING_PREFIX", "match", "normalise"]

_DROP = re.compile(r"[^\w\s'./°-]+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, no punctuation but what paths and units use, single spaces."""
    lowered = text.lower().replace("’", "'").replace("‘", "'")
    return _SPACES.sub(" ", _DROP.sub(" ", lowered)).strip(" .")


_ORDINALS: Mapping[str, int] = MappingProxyType({
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5,
    "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8, "ninth": 9, "9th": 9,
    "last": -1, "final": -1, "top": 1,
})
#: license kinds a choice may name (the demo vendor's labels, as people write them)
CHOICE_KINDS = ("perpetual", "time-based", "time based", "timed", "consumption", "subscription", "user-based",
                "user based", "expired", "disabled", "at-max", "at max", "maxed out", "floating", "trial")

_ORDINAL = "(?P<ordinal>" + "|".join(_ORDINALS) + ")"
_KIND = "(?P<kind>" + "|".join(re.escape(k) for k in CHOICE_KINDS) + ")"
_ITEM = r"(?:one|option|key|license|licence|item|choice|entry|topic)"
_CHOICE = (rf"(?:the )?(?:{_ORDINAL}(?: {_ITEM})?"
           rf"|(?:number|option|no\.?|item|#) ?(?P<number>[1-9]|one|two|three|four|five|six|seven|eight|nine)"
           rf"|{_KIND} {_ITEM}|(?P<digit>[1-9]))")
_POLITE_END = r"(?: please| pls| plz| thanks| thx| thank you)?"
#: "the last one I guess": a choice made with a shrug is still the choice
_HEDGE = r"(?: i guess| i think| i suppose| maybe| probably| then)?"
#: "and …", "what about …": a line that continues the last one
FOLLOW_UP_PREFIX = re.compile(r"^(?:ok(?:ay)? |so )?(?:and(?: what about| how about)?|what about|how about|now) ")
#: a greeting before the real line ("hi, what is a guard file?")
GREETING_PREFIX = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening))(?: there| bot| chatbot)?"
    r"(?: |$)")

_GREETING = (r"(?:(?:hi|hello|hey|hiya|howdy|yo|heya|greetings|(?:good )?(?:morning|afternoon|evening)|good day)"
             r"(?: there| bot| chatbot| again| all| everyone| friend)? ?)+"
             r"(?:(?:how'?s it going|how are you(?: doing| today)?|how'?s things|what'?s up|how do you do|sup)(?: bot)?)?"
             r"|how'?s it going|how are you(?: doing| today)?|what'?s up")
_THANKS = (r"(?:(?:ok(?:ay)?|k|great|perfect|cool|nice|awesome|brilliant|excellent|super|got it|that helped|"
           r"that helps|that worked|it worked|(?:you'?re|you are|ur) (?:a |the )?(?:lifesaver|life saver|star|legend|"
           r"gem|champ|hero|best|great|awesome|amazing|brilliant)|you rock|very helpful|so helpful) )*"
           r"(?:thanks|thank you|thank u|thx|ty|tysm|tyvm|thanx|thnx|thnks|thks|tnx|tks|thanku|thankyou|cheers|"
           r"many thanks|much appreciated|appreciate it|"
           r"thanks a lot|thanks so much|thank you so much|thank you very much|ta)"
           r"(?: (?:a lot|so much|very much|again|for (?:the|your|all the) help|for that|for this|bot|mate|man|"
           r"a bunch|heaps|that helped|that helps|that worked|that was (?:very |really |so )?helpful))*")
_FAREWELL = (r"(?:(?:ok(?:ay)?|thanks|thank you|cheers|alright|right|well|great|so) )*"
             r"(?:bye|bye bye|byebye|goodbye|good bye|see (?:you|ya)(?: later| soon| around)?|farewell|cya|"
             r"later|good night|goodnight|gotta go|i'?m off|i am off|that'?s all|take care|catch you later|"
             r"catch ya later|talk (?:to you )?(?:later|soon)|ttyl|laters|signing off|i'?m out|"
             r"have a (?:good|nice|great) (?:day|one|night|evening|weekend))"
             r"(?: (?:then|now|for now|bot|everyone|all|for today|thanks|thank you))*")

#: the steps of an offline activation, reported done: "I've got the lic file", "uploaded the req and got the lic back"
_DONE_VERB = r"(?:got|downloaded|copied|saved|placed|brought(?: back)?|uploaded|moved|received)"
_HAVE_DONE = rf"(?:have|put|{_DONE_VERB})"
_STEP_FILE = (r"(?:it|that|ls_activation\.(?:lic|req)|the (?:\.?lic |\.?req |license |licence |response |request |activation |"
              r"refresh )*(?:file|response|request|lic|req))")
_WHERE = r"(?: (?:now|back|there|here|in place|on (?:the|my) desktop|too))*"
#: (act, intent, pattern over the normalised line); the first row that matches wins
ACT_TABLE: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (act, intent, re.compile(f"^(?:{pattern})$"))
    for act, intent, pattern in (
        (GREET, HELP, _GREETING),
        (BYE, QUIT, _FAREWELL),
        (THANK, UNKNOWN, _THANKS),
        (AFFIRM, UNKNOWN,
         r"(?:yes|y|yeah|yea|yep|yup|ya|sure|ok|okay|k|kk|confirm|confirmed|go ahead|go for it|do it|please do|"
         r"proceed|absolutely|of course|correct|right|affirmative|sounds good|alright|all right|fine|"
         r"definitely|certainly|yes please|please)"
         r"(?: (?:yes|please|do it|go ahead|sure|thanks|thank you|that'?s right|i'?m sure|i am sure|definitely|"
         r"do that|go on|proceed|confirm|exactly|that one|deactivate it|clear it))*"),
        (DENY, UNKNOWN,
         r"(?:no|n|nope|nah|cancel|don'?t|do not|stop|abort|never mind|nevermind|not now|no thanks|no thank you|"
         r"leave it|keep it|forget it|skip|skip it|not really|no way|negative|nope not now|wait)"
         r"(?: (?:thanks|thank you|leave it|keep it|don'?t|do not|cancel|not now|please|don'?t do it|"
         r"do not do it|i changed my mind|never mind|keep my license|leave it as it is|stop|that|it))*"),
        (DONE, UNKNOWN,
         r"(?:(?:ok(?:ay)?|alright|right|so|yes|yep|great|good) )?"
         r"(?:done|all done|finished|i'?m finished|next|next step|continue|go on|ready|i'?m (?:done|ready|back)|"
         r"i am (?:done|ready|back)|it'?s done|it is done|did it|i did it|that'?s done|uploaded|got it)"
         rf"(?: now| too| already|,? what'?s next| what now)?{_POLITE_END}"),
        (DONE, UNKNOWN,
         rf"(?:(?:ok(?:ay)?|alright|right|so|yes|great|good) )?(?:i(?:'ve| have)? {_HAVE_DONE}|{_DONE_VERB})"
         rf" {_STEP_FILE}{_WHERE}"
         rf"(?: (?:and|then|and then) (?:i )?(?:{_HAVE_DONE}) {_STEP_FILE}{_WHERE})?(?: now)?"),
        (DONE, UNKNOWN,
         r"(?:ok(?:ay)? )?(?:the )?(?:file|response|response file|lic file|\.lic file|ls_activation\.lic) "
         r"is (?:there|here|in place|ready|back|on (?:the|my) desktop)(?: now)?"),
        (WHY, UNKNOWN,
         r"(?:(?:but|so|and|ok|okay|hm+|huh|wait) )*"
         r"(?:why|why not|why so|why though|why is that|why was that|why's that|why is it|why did (?:that|it) "
         r"(?:fail|happen)|why (?:was|is) (?:that|it) (?:refused|not allowed)|why can'?t i|how come|"
         r"what happened|what went wrong|explain (?:that|it|why)|what does that mean|what do you mean|"
         r"how so|why would that be)"),
        (FOLLOW_UP, SKILL_CONVERT,
         rf"(?:and|what about|how about|and what about|now|ok and|and now) (?:in |to |into |as )?"
         rf"(?P<num>{_NUM_PAT}) ?(?P<from>{_UNIT_PAT})(?: (?:in|to|into|as) (?P<to>{_UNIT_PAT}))?"),
        (FOLLOW_UP, SKILL_CONVERT,
         rf"(?:and|what about|how about|and what about|now|ok and|and now) (?:in |to |into |as )?(?P<to>{_UNIT_PAT})"),
        (FOLLOW_UP, UNKNOWN, rf"(?:and|what about|how about|and what about|and for) {_CHOICE}{_POLITE_END}"),
        (SELECT, UNKNOWN, rf"(?:i'?ll take |i want |i choose |let'?s go with |go with |pick |take )?"
                          rf"{_CHOICE}{_HEDGE}{_POLITE_END}"),
    )
)


def _choice(groups: Mapping[str, str | None]) -> int | str | None:
    if groups.get("ordinal"):
        return _ORDINALS[str(groups["ordinal"])]
    for name in ("number", "digit"):
        if groups.get(name):
            number = _to_number(str(groups[name]))  # "number 2", "number two"
            return None if number is None else int(number)
    kind = groups.get("kind")
    return None if kind is None else kind


#: the acts a line may be read as once its typos are corrected ("thnaks", "finshed", "thank yuo"); never one that
#: confirms or leaves ("yse" to a deactivation, "goodbey"): those must be typed right
_CORRECTABLE = frozenset({GREET, THANK, DONE, WHY, DENY})
_ACT_WORDS: frozenset[str] = frozenset(word for *_, pattern in ACT_TABLE for word in re.findall(r"[a-z]{3,}", pattern.pattern))
_SHORT_ACT_WORDS = frozenset({"no", "hi", "ty"})
_REPEATS = re.compile(r"(.)\1+")
_MAX_CORRECTED_WORDS = 4
_TYPO_CUTOFF = 80.0


def _act_word(word: str) -> str:
    """The act word ``word`` is a typo of (same first letter; one letter dropped, added, changed or swapped with
    the next), or ``word``."""
    if word in _ACT_WORDS or word in _KNOWN or len(word) < 3 or not word.isalpha():
        return word
    squeezed = _REPEATS.sub(r"\1", word)  # a letter held down: "noo", "whyy", "hiii"
    if squeezed in _ACT_WORDS or squeezed in _SHORT_ACT_WORDS:
        return squeezed
    for target in _ACT_WORDS:
        if target[0] != word[0] or abs(len(target) - len(word)) > 1:
            continue
        swapped = len(target) == len(word) and sorted(target) == sorted(word) and sum(
            a != b for a, b in zip(target, word)) == 2
        if swapped or (min(len(word), len(target)) > 3 and fuzz.ratio(word, target) >= _TYPO_CUTOFF):
            return target
    return word


def match(text: str) -> Intent | None:
    """The dialogue act the whole line is, as an :class:`Intent`; None when it is not one."""
    line = normalise(text)
    found = _match(line)
    if found is None and len(line.split()) <= _MAX_CORRECTED_WORDS:
        corrected = " ".join(_act_word(word) for word in line.split())
        if corrected != line:
            found = _match(corrected)
            if found is not None and found.act not in _CORRECTABLE:
                return None
    return found


def _match(line: str) -> Intent | None:
    for act, intent, pattern in ACT_TABLE:
        found = pattern.match(line)
        if found is None:
            continue
        groups = {name: value for name, value in found.groupdict().items() if value}
        slots: dict[str, object] = {}
        if intent == SKILL_CONVERT:
            if "num" in groups:
                value = _to_number(groups["num"])
                if value is not None:
                    slots["value"] = value
            slots.update({slot: groups[name].strip() for name, slot in (("from", "unit_from"), ("to", "unit_to"))
                          if name in groups})
        else:
            choice = _choice(groups)
            if choice is not None:
                slots["choice"] = choice
        return Intent(intent, slots, act=act)
    return None
