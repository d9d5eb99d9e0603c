"""Question detection: does the line ask *about* something, or ask the bot to *do* it now?

The rule the whole bot keeps: a question is answered (from knowledge or from the license), never
executed. "how do I deactivate?", "can I deactivate offline?", "what happens if I clear local
storage?", "deactivate offline?" are questions; "deactivate offline", "could you deactivate my
license offline?", "please refresh", "I'd like to check online" are requests. A polite wrapper
around a question ("can you tell me how many activations are left?") is still a question, and so
is a request for an explanation ("walk me through offline activation", "show me how to refresh"),
a question after a statement ("my laptop died, can I get my activation back?") and one after a
condition ("if I deactivate, do I have to…?").

:func:`direct` puts an embedded yes/no question in question order ("tell me whether I'm licensed"
-> "… whether am I licensed"), so the patterns for direct questions read it; :func:`last_question`
finds the question a long line ends with after telling a story.

Both tests look at the tokenised line (lower case, contractions expanded: "what's" -> "what is"),
padded with spaces, plus whether the typed line ends with a question mark.
"""

from __future__ import annotations

import re

__all__ = ["asks", "direct", "last_question", "requests"]

_WH = r"(?:what|how|why|where|when|which|who|whose|whom)"
_AUX = (r"(?:is|are|was|were|does|do(?! (?:a|an|the|it|this|that|one|some|me|my|another|online|local|offline)\b)|did|has|have|had|can(?! you | u | ya )|"
        r"could(?! you)|should|shall|will(?! you| not (?!(?:i|it|we|you|they|this|that|my|the) ))|would(?! you)|may i|might|am i|is not|are not|does not|do not (?:i|you)|"
        r"can not (?:i|we)|any (?:idea|way|chance))")
#: a polite request: the user asks the bot to act ("could you deactivate…", "please refresh")
_REQUEST = re.compile(
    r"^ (?:(?:ok|okay|so|now|then|bot|hey|hi|right|alright) )*"
    r"(?:(?:please|pls|kindly|just) |(?:can|could|would|will) you (?:please |kindly |just |now )?"
    r"(?!tell me (?:what|how|why|where|when|which|who|if|whether|about)|explain|describe|say (?:what|how|why)"
    r"|help me (?:understand|figure)|let me know|(?:mind )?telling me|remind me|walk me|take me|guide me|talk me"
    r"|run me|show me how)"
    r"|(?:i (?:want|wanna|would like|d like|need|wish)|id like) (?:you )?to (?!know|understand|learn|ask|find out|see what)"
    r"|(?:i want|i would like|id like) (?!to )"
    r"|let us |lets |go ahead and |time to |help me (?!understand|figure)"
    r"|can i (?:get|have) (?:this|it|my|the) (?:[a-z]+ ){0,3}(?:activate|activated|registered|refreshed|"
    r"deactivated)"
    r"|i am (?:trying|going) to (?!understand)"
    r"|(?:it )?(?:would|will) be (?:great|nice|awesome|good|lovely|helpful) if you (?:could |would |can )?"
    r")"
    # "could you refresh…", "I was wondering if you could refresh…"
    r"| (?:(?:can|could|would|will) you|(?:wondering|hoping|wonder) (?:if|whether) you (?:can|could|would|might)) (?:please |kindly |just |now )?"
    r"(?:activate|deactivate|register|unregister|refresh|update|check|verify|validate|clear|wipe|reload|create|make|"
    r"generate|write|roll|convert|count|consume|record|run|do|release|apply|quit|close) ")
#: question cues at the start of the line or of a clause
_QUESTION = re.compile(
    rf"(?:^|(?<= but)|(?<= so)|(?<= and)|(?<= then)|(?<= now)|(?<= ok)|(?<= okay)|(?<= hi)|(?<= hey)"
    rf"|(?<= hello)|(?<= well)|(?<= also)|(?<= just)|(?<= quick question)|(?<= question)) "
    rf"(?:{_WH} |{_AUX} |is it |is there |are there )"
    r"|^ (?:can|could|would) you (?:tell me|explain|describe|say) "
    # a request for an explanation is a question: "walk me through offline activation", "show me how to…"
    r"| (?:walk|take|guide|talk|run|step) me through | show me how | teach me "
    # a question after a statement, the comma gone: "my laptop died, can I get my activation back?"
    r"| (?:can|could|should|must|do|did|will|would|am|have) (?:i|we) (?!mean )"
    # a conditional clause first: "if I deactivate, do I have to…?", "once I clear it, can I…?"
    r"|^ (?:if|once|after|before|suppose|say) (?:[a-z0-9]+ ){1,8}?(?:(?:can|could|do|does|did|will|would|should|is|are"
    r"|am|has|have) (?:i|we|you|it|they|the|my|this|that|there)|(?:what|how|why|where|when|which|who)) "
    r"| (?:i wonder|wondering|not sure|no idea|confused|do not understand|do not get|curious"
    r"|explain|tell me about|tell me (?:what|how|why|where|when|which|if|whether)|do you know"
    r"|i (?:want|would like|d like) to (?:know|understand|learn|find out)|question about|what happens|what if"
    r"|is it possible|is there a way|how come|in what|under what|for what|at what point|is it true) "
    r"| still (?:says|shows|thinks|works|work|working|run|runs|function|licensed|says i am|there|think) "
    # a yes/no question about what a thing will do: "…, will my seat keep working", "does the app keep running"
    r"| (?:will|would|does|do|is|can) (?:my|it|this|our|the) (?:[a-z]+ ){0,2}(?:keep|continue|stay|survive|last) "
    # "…, will the license complain about the clock", "do the skills need a license": a thing, then what it does
    r"| (?:will|would|does|do|did|can|could) (?:the|my|this|our) (?:offline |old |new )?(?:license|licence|app|"
    r"application|machine|computer|pc|device|skills?|features?|bot) (?:even |still |ever )?(?:need|needs|require|see|"
    r"notice|complain|work|break|survive|know|handle|care|mind|expire|stop) "
    r"| (?:why|how come|how) $| how (?:i|we) (?:can|could|should|must|do) | (?:will|would|does|did|can|could) (?:that|this|it) (?:work|be ok|be okay|be fine|be allowed) $"
    r"| how (?:do|does|did|can|could|should|would|will|to|much|many|long|often|is|are) "
    r"| what (?:exactly |else |actually |really )?(?:is|are|was|does|do|did|happens|happened|if|should|can|could|might"
    r"|may|will|would|causes|caused|makes|made|gets|get|goes|stays|remains) "
    r"| why (?:is|are|does|do|did|can|would|was|were|will|has|have|not) "
    r"| where (?:is|are|do|does|did|can|should|will|would) "
    r"| when (?:is|are|does|do|did|will|should|was|would|can) "
    r"| which (?:is|are|one|ones|file|files|license|licenses|key|keys|page|types?|kinds?) ")


#: an embedded yes/no question keeps the statement's word order: "could you tell me whether I'm licensed?"
_EMBEDDED = re.compile(r" (?P<conj>whether|if) (?P<subject>i|we|you|it|there|(?:my|the|this|our) (?:[a-z]+ ){0,2}?[a-z]+) "
                       r"(?P<verb>am|is|are|has|have|can|will|was) ")


def direct(line: str) -> str:
    """The (tokenised, space-padded) line with an embedded question in question order ("… whether i am licensed"
    -> "… whether am i licensed"), so that the patterns for direct questions read it too."""
    return _EMBEDDED.sub(lambda m: f" {m['conj']} {m['verb']} {m['subject']} ", line)


#: where a question starts inside a longer line: "…, where do I put the lic now?"
_CLAUSE_START = re.compile(r"(?:^|[\s,;:.!?-])(?=(?:what|how|where|when|which|why)\s)",
                           re.IGNORECASE)
#: a line is long enough to hold a story before its question from this many words; the question needs this many
_STORY_WORDS = 12
_ASKS_FIRST = re.compile(r"\W*(?:what|how|why|where|when|which|who|can|could|is|are|do|does|did|will|should|would)\b",
                         re.IGNORECASE)
_QUESTION_WORDS = 3


def last_question(text: str) -> str | None:
    """The question that ends a long line telling a story first ("ok so I made the req file and took it to the
    other pc and uploaded it, where do I put the lic now"), or None."""
    if len(text.split()) < _STORY_WORDS:
        return None
    starts = [found.end() for found in _CLAUSE_START.finditer(text) if found.end() > 0]
    if not starts or _ASKS_FIRST.match(text):
        return None  # no story first: "what is a hardware id and why does the request hold it?" is one question
    clause = text[starts[-1]:]
    return clause if len(clause.split()) >= _QUESTION_WORDS else None


#: a request that ends by asking how: "I want to deactivate the old pc and use the license on the new one, how?"
_ENDS_ASKING = re.compile(r" (?:how|why|how come) $")


def requests(line: str) -> bool:
    """Does the (tokenised, space-padded) line ask the bot to act now?"""
    return _REQUEST.search(line) is not None


def asks(line: str, question_mark: bool) -> bool:
    """Is the (tokenised, space-padded) line a question — asking about something, not for an action?"""
    if requests(line) and _ENDS_ASKING.search(line) is None:
        return False
    return question_mark or _QUESTION.search(line) is not None
