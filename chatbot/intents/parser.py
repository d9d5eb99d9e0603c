"""The pipeline behind :func:`chatbot.intents.parse`.

1. **Dialogue acts** (:mod:`.acts`): a whole line that is "hi", "thanks", "yes", "done", "why?",
   "the second one", "and in meters?" is returned with its act. A greeting or thanks before a
   real line is dropped; "and …" / "what about …" before a short question marks it a follow-up.
2. **Mentions** (:mod:`.mentions`): an error code, a user-based license's credentials.
3. **Question or request** (:mod:`.questions`), on the line with typos of command and question words corrected
   and an embedded question put in question order ("… whether I'm licensed" reads as "am I licensed").
4. **Computing skills**: a word count or a conversion, read from the text as typed — unless the
   line is a question *about* that skill ("is the wordcount feature included?").
5. **Facts** (:mod:`.facts`): a question about the license held here -> ``license_status`` + ``fact``.
6. **Command rules** (:mod:`.rules`) on the tokenised, typo-corrected line.
7. **Questions are never actions**: a question the rules read as an action becomes ``help``, and so does one the
   rules give a skill when it speaks of licensing ("is the clock check done in UTC?"), or one that reads like a
   state question but is about a concept ("why is it still licensed after I deleted the file?").
8. **Topics** (:mod:`.topics`): a ``help`` line about a concept gets the knowledge entry it asks
   about, or the closest entries when no entry is sure; a long line that tells a story first is matched on
   the question it ends with. A question with no command word is answered from knowledge when it speaks
   of the domain or an entry matches it well; other off-topic questions are ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .. import knowledge
from . import acts, facts, mentions, questions, topics
from .extract import _extract
from .model import (
    _UNKNOWN_SUGGESTION,
    ACTIVATE_OFFLINE,
    ACTIVATE_ONLINE,
    BORROW_SEAT,
    CHECK_ONLINE,
    CLARIFY,
    CLEAR_STORAGE,
    CONSUME,
    CREATE_ACTIVATION_REQUEST,
    DEACTIVATE_OFFLINE,
    DEACTIVATE_ONLINE,
    DESTRUCTIVE_INTENTS,
    FOLLOW_UP,
    HELP,
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
    SKILL_CONVERT,
    SKILL_DICE,
    SKILL_JOKE,
    SKILL_TIME,
    SKILL_WORDCOUNT,
    START_FLOATING_SERVER,
    STOP_FLOATING_SERVER,
    UNKNOWN,
    Intent,
)
from .rules import _guarded, _rule_out_of_scope, _View
from .slots import _match_conversion, _match_wordcount, _slots_for
from .tokens import _canonical, _corrected, _surface, _tokenise
from .vocabulary import _ONLINE_SUBJECT

#: intents that do something; a question never gets one
ACTIONS = frozenset({
    ACTIVATE_ONLINE, ACTIVATE_OFFLINE, CREATE_ACTIVATION_REQUEST, DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE,
    REFRESH_OFFLINE, CHECK_ONLINE, LOCAL_CHECK, CLEAR_STORAGE, CONSUME, RELOAD_LICENSE, QUIT,
    REQUEST_SEAT, RELEASE_SEAT, BORROW_SEAT, RETURN_BORROWED_SEAT, START_FLOATING_SERVER, STOP_FLOATING_SERVER,
})
SKILLS = frozenset({SKILL_JOKE, SKILL_WORDCOUNT, SKILL_CONVERT, SKILL_DICE, SKILL_TIME})

_LEAD_IN = re.compile(
    r"^\W*(?:(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening))(?: there| bot| chatbot)?"
    r"|(?:ok(?:ay)?|great|perfect|cool)?[\s,]*(?:thanks|thank you|thx|cheers)(?: (?:a lot|so much))?)"
    r"[\s,.!:;-]+(?=\S)", re.IGNORECASE)
_FOLLOW_UP = re.compile(r"^\W*(?:(?:ok(?:ay)?|so)[\s,]+)?(?:and(?: what about| how about)?|what about|how about)"
                        r"[\s,]+(?=\S)", re.IGNORECASE)
_FOLLOW_UP_WORDS = 5  # "and the guard file?" continues the last question; a longer line is a new one

#: "what can you do?", "help", "how does it work?": the bot's own help, not a knowledge entry
_GENERAL_HELP = re.compile(
    r"^ (?:(?:please|can you|could you|i need|i want|need|some|hi|hey|hello|bot|show|show me|open|display|give me)"
    r" )*(?:the )?help(?: page| screen| menu| text)?"
    r"(?: me| please| me please| out| needed)? $"
    r"| what (?:else )?(?:can|could|do) you (?:do|help(?: me)?(?: with)?|offer|handle) "
    r"| what (?:else )?(?:can|could|should|may) (?:i|we) (?:ask|say to|type|tell) (?:you|the bot|here) "
    r"| what (?:are|is) (?:your|the) (?:help|commands|options|abilities|capabilities) "
    r"|^ (?:commands|show commands|menu|options|usage|instructions|list commands) $"
    r"| (?:keyboard )?(?:shortcuts|hotkeys|key bindings|keybindings) | keyboard shortcut | hotkey "
    r"| (?:command|key|shortcut|way) to (?:exit|quit|leave|close) "
    r"| how (?:do|can|should) (?:i|we) (?:use|talk to|work with) (?:this|the|you) ?(?:bot|chatbot|app|chat|thing)? $"
    r"| what (?:commands|things|words|questions) (?:do|can|will) you (?:understand|know|accept|take|answer) "
    # the terminal app itself: its palette, file picker, copying, accessibility
    r"| command palette | file picker | screen reader | copy (?:your|the|that) (?:last )?(?:answer|reply|message|text) "
    r"|^ how (?:does|do) (?:it|this|this thing|you) work $"
    r"|^ how (?:do|can|could|should) (?:i|we) (?:quit|exit|leave|close|stop|end|get out of)"
    r"(?: (?:the |this )?(?:chat|chatbot|bot|app|program|session|conversation|thing|window|tool))? $")
#: "help offline", "help keys", "help problems", "help convert": the bot's help pages
_HELP_PAGE = re.compile(r"^ help (?:me )?(?:with |on |about )?(?:the )?"
                        r"(?:offline|keys?|demo|problems?|convert|conversion|units?)(?: [a-z]+)? $")
#: questions about the state of this device's license, the server, the features: asked as such, they
#: are answered from the license; other questions the rules read so are about a concept
_STATE_QUESTIONS = {
    LICENSE_STATUS: re.compile(
        r" (?:am|are) (?:i|we) (?:[a-z]+ )?(?:licensed|licenced|registered|activated|covered|legit|unlicensed) "
        r"| (?:is|are) (?:my|the|this|it|everything|our) (?:[a-z]+ ){0,3}(?:valid|invalid|ok|okay|active|activated|"
        r"licensed|working|fine|good|expired|alright|registered|usable) "
        r"| why (?:am i not|am i unlicensed|can not i (?:activate|register|use (?:it|this|the app))|can i not|is my|"
        r"is it not|is not (?:my|the|it)|does it say|does the app say|is the license not|is my license not|do i get|"
        r"am i getting) "
        r"| how come (?:i am not|i am unlicensed|i can not (?:activate|register)|my (?:license|licence) is|"
        r"it says|the app says|i get|i am getting) "
        r"| (?:license|licence) (?:status|state|info|information|details) "
        r"|^ (?:what is|show|whats) (?:my|the) (?:license|licence) (?:status )?$"
        r"| (?:activation|license|licence|my) status | status of (?:my|the|this) (?:license|licence|activation) "
        r"| (?:license|licence|activation) (?:is not|does not|did not|is|does) (?:[a-z]+ )?(?:work|working|valid|invalid|"
        r"active|activated|ok|expired) "
        r"| why (?:will|would|does|did) (?:not )?(?:it|the app|this|the bot) (?:not )?let me (?:activate|register|use) "
        r"|^ status "),
    LIST_FEATURES: re.compile(
        r" (?:which|what) (?:[a-z]+ )?(?:features|entitlements|modules|skills) (?:do|does|are|is|have|can|am|did|i|we) "
        r"| (?:list|show) (?:me )?(?:my |the |all )?(?:features|entitlements) "
        r"| what am i entitled to "
        r"| (?:which|what) (?:are|is) (?:the |my )?(?:features|skills|entitlements) (?:on|in|of|included|enabled|"
        r"available|unlocked) | features (?:on|in|of) (?:my|this) (?:license|licence) "
        r"| what (?:is )?(?:included|available|unlocked|enabled|in|on) (?:in |on )?(?:my|the|this) (?:license|licence) "),
    IS_ONLINE: re.compile(
        rf" (?:am|are|is) {_ONLINE_SUBJECT} (?:[a-z]+ )?(?:online|offline|connected) "
        r"| (?:server|internet|network|connection) (?:is |are )?(?:up|down|reachable|available|online|running|"
        r"alive|working|ok|okay|there) "
        r"| is (?:the |my )?(?:license |licensing )?(?:server|internet|network) "
        rf"| can {_ONLINE_SUBJECT} (?:reach|contact|connect|see|talk|get)(?: to| with)? (?:the )?"
        r"(?:license |licensing )?(?:server|internet)"
        rf"| (?:do|does) {_ONLINE_SUBJECT} have (?:any )?(?:internet|a connection|network) "
        r"| status of (?:the )?(?:license |licensing )?(?:server|internet|connection|network) "
        r"| (?:server|internet|online|connection) status "),
    LIST_SEATS: re.compile(
        r" how many (?:[a-z]+ ){0,2}(?:seats?|leases?) | who (?:has|holds|is holding|is using|uses|took|got) "
        r"| (?:is|are) (?:there )?(?:any |a |all |the |my )?(?:free |available |spare |open )?(?:floating )?"
        r"(?:seats?|leases?) (?:free|available|left|taken|used|in use|open|spare|remaining)? ?"
        r"| (?:is|are) (?:the |our |my |this |your )?floating server (?:[a-z]+ )?(?:running|up|down|reachable|alive|online|available|"
        r"working|answering|there|started|ok|okay) "
        r"| (?:seats?|leases?) (?:are |is )?(?:free|available|taken|in use|used|left) "),
}
#: a question of more words than this is about a concept unless it asks as a state question does; shorter ones
#: ("licensed?", "status?") are the state
_SHORT_QUESTION = 4
_DELETED = re.compile(r" (?:deleted|removed|wiped|erased|cleared|purged|lost|trashed) ")
#: "why is my license locked to this pc?": why a license is bound to a device is a concept, not the state
_BOUND = re.compile(r" (?:locked|tied|bound|attached|linked|pinned|married|stuck) to ")
#: "what are features on a license?": any license, so the concept
_GENERIC = re.compile(r" (?:a|an|any|every|each) (?:license|licence|licenses|licences) ")
#: "daylight saving changed last night, will my license freak out?": the clock's rules, a concept
_CLOCK_CHANGE = re.compile(r" (?:daylight|dst|timezones?|time zones?|summer time|winter time) ")
#: "the vendor extended my expiry, will this machine see it?": what reaches an offline device, a concept
_VENDOR_CHANGE = re.compile(r" vendor (?:[a-z]+ ){0,3}(?:extended|changed|added|removed|raised|increased|lowered|"
                            r"disabled|updated|reset|revoked) ")
#: "online when there is internet and offline otherwise?": how the route is chosen, a concept (hybrid), not the state
_ROUTING = re.compile(r" (?:otherwise|fall back|falls back|fallback|switch|switches|automatically|hybrid|whichever) ")
#: what the skills need is a concept, not the list of this license's features
_SKILL_NEEDS = re.compile(r" skills? (?:[a-z]+ ){0,4}(?:need|needs|require|requires|depend|depends|use|uses|unlock) "
                          r"| (?:need|needs|require|requires|depend|depends|unlock|unlocks) (?:[a-z]+ ){0,4}skills? ")
#: a line that starts with "help" (but not "help me activate …", a request)
_HELP_FIRST = re.compile(r"^ help (?!me (?!understand|figure|with|please|out|$))")
#: "who are you?", "what is this bot?": about the bot itself
_ABOUT_BOT = re.compile(r" (?:who|what) (?:exactly |really |even )?(?:are|r) (?:you|u)(?: exactly| really)? "
                        r"| what is this (?:bot|app|chatbot|thing|program) "
                        r"| who (?:am i|are we) (?:talking|chatting|speaking) (?:to|with) "
                        r"| tell me about yourself | are you (?:a|an) (?:bot|human|person|robot|ai|real person) "
                        r"| (?:what is|whats) your name | do you have a name "
                        r"| is this (?:a|an) (?:real )?(?:bot|human|person|robot|ai) "
                        r"| am i (?:talking|chatting|speaking) (?:to|with) (?:a |an )?(?:real )?"
                        r"(?:bot|human|person|robot|ai|machine) "
                        r"| what kind of (?:bot|app|chatbot|thing) are you ")
#: a line that is not a question (a few words such as "guard file") is answered from knowledge only when
#: an entry matches it this well
_STATEMENT_SURE = 75.0
#: ... and a question with no word of the domain ("what is the high-water mark?") when an entry matches it this
#: well (off-topic questions the rules let through score below 40)
_QUESTION_SURE = 45.0
#: the line asks about a skill or its license, so the skill must not run on it
_ABOUT_SKILL = re.compile(
    r" (?:feature|features|skill|skills|license|licence|licensed|need|needs|require|requires|locked|unlock|"
    r"unlocks|unlocked|refuse|refuses|refused|why|included|include|includes|credit|credits|allowed|available|"
    r"enabled|cost|costs|part|plan|cover|covers|covered) ")
_ASKS_THE_TIME = re.compile(r" what (?:time|date|day) is (?:it|today) ")
#: "what happens if I set the clock back?": the clock as something done to the device, a licensing concept
_CLOCK_CONCEPT = re.compile(r" what (?:happens|will happen|would happen|if) "
                            r"| (?:set|setting|turn|turning|turned|put|move|moved|moving|roll|rolled|rolling|wind|"
                            r"winding|change|changed|changing) (?:the |my |our |system |computer )?(?:clock|time|date) "
                            r"(?:back|backwards|forward|forwards|earlier|later)? ")
#: the skills' own words, which a question about the skill's result uses ("what does the clock say?")
_SKILL_WORDS = frozenset({"clock", "clocks", "dice", "skill", "skills", "feature", "features"})
#: words of the knowledge base that make a line about licensing even without a command word
_DOMAIN = frozenset("""
skill skills feature features locked unlock unlocked guard clock clocks timezone daylight portal seat seats grace hybrid tier signature signatures signed tamper tampered tampering hardware
device devices response responses lic req vendor tutorial tombstone tombstones replay replayed refused
rejected refusal perpetual subscription consumption overage overages deactivation uploads upload
air gapped airgapped usb localcheck isonline sdk chatbot bot mismatch utc
""".split())


def parse(text: str) -> Intent:
    """Parse one user utterance into an :class:`Intent`.  Never raises for a str."""
    if not isinstance(text, str):
        raise TypeError(f"parse() expects str, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        return Intent(UNKNOWN, candidates=_UNKNOWN_SUGGESTION)
    act = acts.match(stripped)
    if act is not None:
        return act
    lead_in = _LEAD_IN.match(stripped)
    if lead_in is not None and acts.match(stripped[lead_in.end():]) is None:
        return _understand(stripped[lead_in.end():])
    follow_up = _FOLLOW_UP.match(stripped)
    if follow_up is not None:
        rest = stripped[follow_up.end():]
        inner = _understand(rest)
        if len(rest.split()) <= _FOLLOW_UP_WORDS and inner.name in (HELP, LICENSE_STATUS) and (
                inner.slots or inner.closest):
            return replace(inner, act=FOLLOW_UP)
    return _understand(stripped)


def _understand(text: str) -> Intent:
    given = mentions.credentials(text)
    credentials, text = (given[0], given[1]) if given is not None else (None, text)
    code = mentions.code(text)
    line = questions.direct(" " + " ".join(_surface(_tokenise(text))) + " ")
    question = questions.asks(line, text.rstrip().endswith("?"))
    about_skill = question and _ABOUT_SKILL.search(line) is not None
    if not about_skill:
        skill = _match_wordcount(text) or _match_conversion(text)
        if skill is not None:
            return skill
    fact = facts.match(line, question) if code is None or not mentions.only_code(text, code) else None
    if fact is not None:
        slots: dict[str, object] = {"fact": fact[0]}
        if fact[1] is not None:
            slots["feature"] = fact[1]
        return Intent(LICENSE_STATUS, slots, code=code)
    extracted = _extract(text)
    tokens = _tokenise(extracted.rest)
    raw = _View.build(_canonical(tokens), extracted)
    corrected = _View.build(_corrected(tokens), extracted)
    if code is not None and credentials is None and (_match_wordcount(text) or _match_conversion(text)) is None:
        return _help(text, line, corrected, code)  # an error pasted from the portal: explained, never acted on
    if _ABOUT_BOT.search(line):
        return Intent(HELP, {"topic": "about_bot"}, code=code)
    if question and _GENERAL_HELP.search(line):
        return Intent(HELP, code=code)  # "what keyboard shortcuts are there?": the bot's own use
    if _HELP_FIRST.search(line):
        return _help(text, line, corrected, code)  # "help refresh": the help about it, not the command
    if _rule_out_of_scope(corrected) is not None:
        return Intent(UNKNOWN, candidates=_UNKNOWN_SUGGESTION)  # buying, prices, accounts: the vendor's business
    name, candidates = _guarded(corrected, raw)
    if credentials is not None:
        if name not in (ACTIVATE_OFFLINE, CREATE_ACTIVATION_REQUEST):
            name = ACTIVATE_OFFLINE if "offline" in corrected.bag else ACTIVATE_ONLINE
        return Intent(name, _slots_for(name, corrected.words, extracted), credentials=credentials)
    if question and (name in ACTIONS or (name in SKILLS and (about_skill or _beyond_skill(corrected, tokens))) or (
            name == CLARIFY and not set(candidates) - ACTIONS and _strong_question(line))):
        name, candidates = HELP, ()
    if name == CLARIFY and set(candidates) & DESTRUCTIVE_INTENTS and (question or _DELETED.search(line)):
        # "could someone forge a license file?", "I deleted a hidden file and now activation fails": never an offer
        # to deactivate or clear
        name, candidates = HELP, ()
    if name in (HELP, UNKNOWN) and code is None:
        code = mentions.spaced_code(text)  # "it keeps saying clock tampered": a code, retyped
    if name == HELP:
        return _help(text, line, corrected, code)
    if name in _STATE_QUESTIONS and (_strong_question(line) or (question and len(line.split()) > _SHORT_QUESTION)) and (
            _STATE_QUESTIONS[name].search(line) is None or _about_concept(name, line)):
        return _help(text, line, corrected, code)  # "why is the license file signed?": a concept, not a state
    domain = _domain(corrected, [*_surface(tokens), *corrected.words])
    if name == UNKNOWN and (code is not None or question or domain):
        found = _topic(text)
        sure = _QUESTION_SURE if question else _STATEMENT_SURE
        if code is not None or (question and domain) or (
                found.topic is not None and found.score >= sure):
            return _help(text, line, corrected, code, found)
    return Intent(name, _slots_for(name, corrected.words, extracted), candidates, code=code)


def _about_concept(name: str, line: str) -> bool:
    """Does a question that reads like one about this device's state ask about a concept? ("why is the app still
    licensed when I removed the license file?", "which features do the skills depend on?")"""
    if name == LICENSE_STATUS:
        return any(regex.search(line) for regex in (_DELETED, _BOUND, _GENERIC, _CLOCK_CHANGE, _VENDOR_CHANGE,
                                                    _SKILL_NEEDS))
    if name == IS_ONLINE:
        return _ROUTING.search(line) is not None or " grace " in line  # the grace period, whatever the server does
    if name == LIST_FEATURES:
        return _SKILL_NEEDS.search(line) is not None or _GENERIC.search(line) is not None
    return False


def _strong_question(line: str) -> bool:
    return questions.asks(line, False)


def _domain(view: _View, tokens: list[str]) -> bool:
    return view.licensing or any(token in _DOMAIN for token in tokens)


def _beyond_skill(view: _View, tokens: list[str]) -> bool:
    """Does a question the rules gave a skill speak of licensing beyond the skill's own words? ("is the clock
    check done in UTC?", "does daylight saving mess with the clock check?": the knowledge, not the time; but
    "what time is it in UTC?" asks the time)"""
    if _ASKS_THE_TIME.search(view.line):
        return False
    if _CLOCK_CONCEPT.search(view.line):
        return True
    return view.licensing or any(token in _DOMAIN and token not in _SKILL_WORDS for token in tokens)


#: the question at the end of a story decides only when it names at least this many content words
_CLAUSE_TERMS = 2


def _topic(text: str) -> topics.TopicMatch:
    """The knowledge entry ``text`` asks about; in a long line that tells a story before it asks ("I made the req
    and uploaded it, where do I put the lic now?"), the entry the question at its end asks about, if it names one."""
    clause = questions.last_question(text)
    if clause is not None and len(topics.terms(clause)) >= _CLAUSE_TERMS:
        found = topics.match(clause)
        if found.topic is not None:
            return found
    return topics.match(text)


def _help(text: str, line: str, view: _View, code: str | None, found: topics.TopicMatch | None = None) -> Intent:
    """A ``help`` line: the general help, a help page, or the knowledge entry it asks about (``found``: the
    match already made for it)."""
    if _GENERAL_HELP.search(line) or _HELP_PAGE.search(line):
        return Intent(HELP, code=code)
    if _ABOUT_BOT.search(line):
        return Intent(HELP, {"topic": "about_bot"}, code=code)
    background = knowledge.topic_of_code(code) if code is not None else None
    if background is not None:
        return Intent(HELP, {"topic": background}, code=code)
    match = found or _topic(text)
    if match.topic is not None:
        return Intent(HELP, {"topic": match.topic}, code=code)
    if not _domain(view, list(view.words)) and code is None and not match.closest:
        return Intent(UNKNOWN, candidates=_UNKNOWN_SUGGESTION)
    return Intent(HELP, closest=match.closest, code=code)
