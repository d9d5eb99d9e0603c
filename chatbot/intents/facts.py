"""Questions about the license held here: which fact a ``license_status`` line asks for.

"how many activations are left?", "what's my device id?", "is the wordcount feature included?",
"when did it last talk to the server?": each names one fact of the license on this device (the
``fact`` slot, one of :data:`~chatbot.intents.model.FACT_NAMES`), answered in a line or two.

:data:`FACT_TABLE` is the whole vocabulary: (fact, patterns over the tokenised line, padded with
spaces). A line asks for a fact only when it is a question, an imperative such as "show me …" /
"give me …", or a few words alone ("expiration?", "deviceid?"), and not a question about the
concept ("what is a hardware id?" is for the knowledge base). The first row that matches wins,
so the more specific facts come first.
"""

from __future__ import annotations

import re

__all__ = ["FACT_TABLE", "FEATURE_WORDS", "match"]

_W = r"(?:[a-z0-9]+ )"  # any one word
_LICENSE_TYPES = r"(?:perpetual|time based|timed|consumption|subscription|trial|floating|user based)"
#: words that name a feature of this bot's license, so that "do I have dice?" is about a feature
FEATURE_WORDS = frozenset({
    "jokes", "joke", "wordcount", "convert", "conversion", "converter", "dice", "die", "time", "clock",
})

FACT_TABLE: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = tuple(
    (fact, tuple(re.compile(p) for p in patterns))
    for fact, patterns in (
        ("server_contact", (
            rf" last {_W}{{0,3}}(?:talk|talked|spoke|spoken|contact|contacted|reach|reached|heard|hear|sync|synced|"
            rf"connected|connection|online) {_W}{{0,4}}(?:server|vendor|online|internet) ",
            r" (?:server|vendor) (?:last )?(?:contact|sync|connection) ",
            r" last time (?:the |my )?(?:server|vendor) (?:was|were|got|has been) (?:contacted|reached|synced) ",
            # "has this license ever talked to the server?", "last time we phoned home?"
            rf" (?:ever|last|recently) {_W}{{0,2}}(?:talked|spoken|spoke|synced|contacted|phoned|reached|checked in) "
            rf"(?:to |with |in with )?{_W}{{0,2}}(?:server|vendor|home) ",
            r" (?:phoned|phone|called|call) home ",
            rf" (?:server|vendor) {_W}{{0,2}}(?:last )?in (?:touch|contact) | last in (?:touch|contact) ",
            r" last (?:server|online|vendor) (?:contact|check|sync|connection) ",
            rf" when did {_W}{{0,4}}(?:talk|speak|contact|reach|hear|sync|connect|go online|check online)",
            rf" grace (?:period )?{_W}{{0,3}}(?:left|remaining|remain|remains|do i have|is there|until|end|ends|run out|"
            rf"runs out|expire|expires|over|still) ",
            rf" (?:how much|how many days|how long) {_W}{{0,4}}grace ",
            r" grace (?:period )?(?:status|countdown) ",
            r" since (?:the |it |my license |i |we )?(?:server|vendor|last (?:contact|sync|online check)|"
            r"(?:last )?(?:talked|synced|connected|reached|contacted)) ",
            rf" (?:server|vendor) (?:was |were )?last {_W}{{0,2}}(?:reached|contacted|seen|heard|online) ",
            r" how (?:much )?long(?:er)? can (?:i|we|it|the app) (?:stay|remain|be|work|keep working|run|go) "
            r"(?:offline|disconnected|without)",
            # "how long until I have to reach the server again?", "when do I need to go online?"
            rf" (?:until|till|before|when) {_W}{{0,3}}(?:have|need|must|got) to {_W}{{0,2}}(?:go online|be online|reach|"
            rf"contact|connect|talk|check in|sync|see the server)",
        )),
        ("last_check", (
            r" last (?:local |license |licence )?(?:check|checked|verified|validated|verification|validation|time it was checked) ",
            rf" when (?:was|did|were) {_W}{{0,4}}(?:last )?(?:checked|verified|validated|check|verify|validate) ",
            rf" last time {_W}{{0,4}}(?:checked|verified|validated|check|verify|validate) ",
            r" (?:most recent|latest|previous) (?:local |license |licence )?(?:check|verification|validation) ",
        )),
        ("device_id", (
            r" (?:device|hardware|machine|computer|activation|pc|system|devices|computers|machines) "
            r"(?:id|ids|identifier|fingerprint|number) ",
            r" (?:deviceid|hwid|hardwareid|machineid) ",
            r" id of (?:this|my|the) (?:device|machine|computer|pc) ",
            r" (?:what|which) id (?:does|do|is|has|have) (?:[a-z]+ ){0,4}(?:this|my|our) (?:device|machine|computer|pc|"
            r"laptop|box|install) ",
            r"^ (?:my |the |this )?id $",
        )),
        ("activations", (
            rf" (?:how many|number of) {_W}{{0,2}}(?:activations|activation) ",
            rf" (?:how many|number of) {_W}{{0,2}}(?:devices|machines|computers|pcs) "
            rf"{_W}{{0,4}}(?:left|remaining|use|using|activated|activate|active|add|register|have|allow|allowed|on|installed|"
            rf"running)",
            rf" (?:activations|activation) {_W}{{0,3}}(?:left|remaining|used|free|available|do i have|"
            rf"have i|allowed|does my|in use|taken|are there) ",
            r" (?:total|max|maximum) (?:activations|devices) (?:on|of|for|do|does|is|are|i|yet|already|$)",
            r" (?:activation|activations|device|devices) (?:limit|cap|quota|allowance|maximum|max) ",
            r" (?:activation|activations) (?:count|counter|number|total) ",
            r"^ (?:my |free |used )?(?:activations|activation count|activations left) $",
        )),
        ("license_key", (
            r" (?:license|licence|lic|product|serial|activation|my) (?:key|number|code) (?!can |could |i can |to use )",
            r" (?:which|what) (?:license |licence )?key (?:am i|do i|i am|did i|is|was|have i|are we) ",
            rf" (?:which|what) (?:license |licence )?key (?:i|we) {_W}{{0,2}}(?:used|activated|registered|entered|typed|"
            rf"have|bought|got) ",
            r" (?:the|my) key (?:i am|am i|i|that i|we) (?:using|use|used|have|activated) ",
            r" (?:what|which) (?:is )?(?:the|my) key (?:on|for|of|in) (?:this|my|the) ",
            r" serial ",
            r"^ (?:my |the |license |licence |product )*key $",
            r" which (?:license|licence) (?:am i|are we|is this|do i have|is active|is activated|is installed|is "
            r"loaded|is in use) ",
        )),
        ("license_type", (
            r" (?:license|licence) type ",
            r" (?:type|kind|sort) of (?:license|licence) ",
            r" (?:what|which) (?:type|kind|sort|edition|plan|tier) ",
            rf" (?:is|am) (?:it|my license|my licence|this|this license|this licence|i on|i using|mine) "
            rf"(?:a |an |on a |on an |using a )?{_LICENSE_TYPES} ",
            rf" (?:do i have|am i on|is this) (?:a |an )?{_LICENSE_TYPES} (?:license|licence|plan|one) ",
        )),
        ("feature", (
            r" (?:is|are|was) (?:the |my )?(?P<feature>[a-z][a-z0-9_]*) (?:feature|skill|module|option) ",
            r" (?:feature|skill|module) (?P<feature>[a-z][a-z0-9_]*) (?:included|enabled|available|on|in|active|unlocked|"
            r"there|licensed|allowed|part) ",
            r" (?:is|are) (?:the |my )?(?P<feature>[a-z][a-z0-9_]*) (?:included|enabled|unlocked|licensed|allowed) ",
            r" do (?:i|we) (?:have|get) (?:the |a |any )?(?P<feature>[a-z][a-z0-9_]*)(?: feature| skill| features| skills)? "
            r"(?:on|in|with|included|enabled|$)",
            r" does (?:my|the|this) (?:license|licence) (?:include|have|cover|contain|come with|unlock|allow) "
            r"(?:the |a )?(?P<feature>[a-z][a-z0-9_]*) ",
            r" can i (?:use|run|get) (?:the )?(?P<feature>[a-z][a-z0-9_]*) (?:feature|skill) ",
            r" (?:am i|are we) (?:licensed|licenced|allowed|entitled) (?:for|to use|to run) (?:the )?(?P<feature>[a-z][a-z0-9_]*) ",
            # "is convert on my license?", "is dice part of my plan?", "does the dice feature come with my licence?"
            r" (?:is|are) (?:the |my )?(?P<feature>[a-z][a-z0-9_]*)(?: feature| skill)? (?:on|in|part of|included in|covered by|"
            r"available on|enabled on|unlocked on|allowed on|with) (?:my|the|this|our) (?:license|licence|plan|key) ",
            r" (?:does|do|did) (?:the |my )?(?P<feature>[a-z][a-z0-9_]*) (?:feature|skill|module) (?:come|ship|belong) ",
            r" (?:have|got) (?:the )?(?P<feature>[a-z][a-z0-9_]*) (?:feature|skill) ",
        )),
        ("seat", (
            r" (?:time|how long|how much time) (?:is )?(?:left|remaining) (?:on|for|in|of) (?:my|the|this|our) "
            r"(?:floating )?(?:seat|lease|borrow|borrowed seat) ",
            r" how (?:long|much longer|much time) (?:is|does|will|can|do i have|have i got|is left|left) (?:on )?"
            r"(?:my|the|this|our) (?:floating )?(?:seat|lease|borrow|borrowed seat)",
            r" when (?:does|will|is|do) (?:my|the|this|our) (?:floating |seat )?(?:seat|lease|borrow|borrowed seat) "
            r"(?:end|ends|expire|expires|run out|runs out|due|over|have to|stop)",
            r" (?:is|was) (?:my|this|the|our) (?:floating )?seat (?:a |an )?(?:borrowed|live|still|valid|ok|okay|active|held|"
            r"mine|good) ",
            r" (?:which|what) seat (?:do|am|have|is|did) ",
            # "is the seat I have a borrowed one?", "until when is my borrowed seat good?"
            r" (?:is|was) (?:the|my|this) (?:floating )?seat (?:i|we) (?:have|hold|got|am holding|took) ",
            r" (?:until|till) when (?:is|does|will|can) (?:my|the|this|our) (?:floating |borrowed )?(?:seat|lease|borrow) ",
            r" do (?:i|we) (?:still |currently |already |now )?(?:have|hold|own) (?:a|my|the|any) (?:floating )?(?:seat|lease) ",
            r" (?:am i|are we) (?:already |currently |still )?(?:holding|using) (?:a|my|the|any) (?:floating )?(?:seat|lease) ",
            r" (?:my|the) (?:floating )?(?:seat|lease) (?:status|time left|expiry|end|details|info) ",
            r" (?:seat|lease) (?:time left|expiry) ",
        )),
        ("consumption", (
            rf" (?:how many|how much|number of) {_W}{{0,2}}(?:uses|use|credits|credit|consumption|consumptions|usage|"
            rf"units|runs) ",
            rf" how many (?:more )?times {_W}{{0,6}}(?:left|remaining|before|until|till|run out|runs out|use up) ",
            rf" (?:uses|credits|consumption|usage|consumptions) {_W}{{0,3}}(?:left|remaining|used|consumed|"
            rf"do i have|have i|so far) ",
            r" (?:have i|did i|i have|have we) (?:already )?(?:used|consumed|spent) ",
            r" (?:used|consumed|spent) so far ",
            r" (?:usage|use|uses|consumption|credit|credits) (?:count|counter|total|balance|level|tally) ",
            r" (?:my|our) (?:consumption|usage) | (?:running|run|ran) out of (?:uses|credits|consumption) ",
        )),
        ("expiry", (
            rf" when {_W}{{0,5}}(?:expire|expires|expiring|expiry|expiration|end|ends|ending|run out|runs out|"
            rf"stop working|lapse|lapses) ",
            r" (?:does|will|can|is) (?:my|this|our) (?:[a-z]+ )?(?:license|licence|key|plan) (?:ever |even |going to )?"
            r"(?:expire|expiring|run out|lapse|end) ",
            r" (?:expiry|expiration|end|renewal) date ",
            rf" (?:has|is|did) {_W}{{0,3}}(?:expired|expire) ",
            r" days? (?:are |is )?(?:left|remaining|until|till|before|to go|remain) ",
            r" how (?:long|many days) (?:until|till|before|left|remain|is (?:my|the|this) licen[cs]e valid|"
            r"(?:is|will|does) (?:it|my licen[cs]e|the licen[cs]e|this licen[cs]e) (?:valid|last|good|run)|do i have) ",
            rf" (?:what time|what date|what day|which day|which date) {_W}{{0,4}}(?:expire|expires|end|ends) ",
            r" valid (?:until|till|through|to) ",
            r" (?:until|till|til) when ",
            r" how long (?:is|will) (?:my|the|this) licen[cs]e (?:valid|good|last) ",
            r" (?:expires|expire) (?:on|when|at) ",
            r"^ (?:expiry|expiration|expires|expire|expiry date|expiration date|days left) $",
            r" time left ",
        )),
    )
)

#: "what is a hardware id?", "what does … mean", "difference between …", "what is the hardware id used for?",
#: "what kinds of licenses are there?": about the concept
_CONCEPT = re.compile(
    r"^ (?:what|whats) (?:is|are) (?:a|an|the difference|the point|the purpose) "
    r"| mean | meaning | difference | explain | what happens | how does (?:[a-z]+ ){0,6}work "
    r"| why (?:does|do|is|are) (?:a|an|the)? ?(?:license|licence|response|request) "
    r"| used for | (?:good|needed|there) for $|^ (?:what|whats) (?:is|are) (?:[a-z]+ ){1,4}for $"
    r"| are there $| exist $|^ how (?:does|do|is|are) (?:a|an|the) "
    # "can a feature expire on its own?": any feature or license, so the concept
    r"| (?:can|does|do|will|could|is|are) (?:a|an|any|each|every) ")
#: "what happens when I hit the activation limit?": what follows from a state, not the state
_WHAT_IF = re.compile(r"^ what if | what (?:happens|will happen|would happen|happened) ")
#: "how long is the grace period when I can't reach the server?": the rule, not the grace left here
_GRACE_RULE = re.compile(r" how long is (?:the|a) grace period (?!left |remaining )"
                         r"| how (?:many days|long|much) (?:of )?(?:a |the )?grace (?:period )?(?:[a-z]+ ){0,3}(?:if|when|once) ")
#: "is my lic perpetual?": in a question about the license held, "my lic" is the license, not the .lic file
_MY_LIC = re.compile(r" (?:my|this|our) lic (?!file )")
#: "why …?" and "how come …?" ask for a reason, never for a fact
_REASON = re.compile(r"^ (?:why|how come) ")
#: "how do I get a new feature?", "can I change the expiry date?": how to change a fact, not the fact
_HOW_TO = re.compile(
    r"^ how (?:do|can|could|would|should|does) (?:i|we|you|one|a vendor|the vendor) (?:get|add|buy|obtain|request|"
    r"change|extend|reset|remove|renew|increase|raise) "
    r"| (?:can|could) (?:i|we|you|someone|a user) (?:change|edit|modify|extend|fake|forge|alter|reset|increase|raise|"
    r"tweak|hack|patch) "
    r"| (?:is it possible|is there a way|is it allowed|is it ok|is it okay) to (?:change|edit|modify|extend|fake|forge|"
    r"alter|reset|tweak|hack|patch) "
    # "can I deactivate a license that has expired?": whether an action is possible, not the fact it mentions
    r"|^ (?:can|could|should|do|must) (?:i|we) (?:still |also |then )?(?:deactivate|activate|refresh|move|transfer|clear|"
    r"wipe|reinstall|undo|return|release|reuse|copy|register|unregister) "
    # a hypothetical first: "after I clear the storage, is my seat still taken?"
    r"|^ (?:if|after|once|suppose|say) (?:i|we|you) ")
#: "show me …", "give me …", "tell me …": an imperative that asks for a fact
_SHOW = re.compile(
    r"^ (?:(?:please|pls|can you|could you|would you|will you|bot|just|kindly|would you mind|do you mind|mind) )*"
    r"(?:show|showing|give|giving|tell|telling|display|print|read|get|find|list|say|remind|reminding)(?: me| us)? "
    r"| (?:let me know|remind me|tell me|show me) "
    r"| (?:i|we) (?:would like|want|wanna|need) to (?:know|see|check|find out) "
    # a fact named and asked for: "my device id please, support asked for it"
    r"|^ (?:my|our|the) (?:[a-z]+ ){1,3}please ")
_FIRST_PERSON = re.compile(r" (?:my|i|me|mine|our|we|this license|this licence|this device|this machine|"
                           r"this computer|left|remaining|here) ")
_SHORT = 3  # a line of at most this many words is a fact on its own ("expiration?", "device id?")
#: facts whose words also name a concept of the knowledge base ("how are activations counted?", "how long is
#: the grace period?"): asked without naming the license held, the line is about the concept
_OWNED = frozenset({"activations", "consumption"})
#: ... unless it asks how much is used or left ("how many activations are used?", "how many are left?")
_STATE_WORD = re.compile(r" (?:left|remaining|remain|used|free|available|taken|in use|so far|consumed|spent) ")
_NAMED_FEATURE = re.compile(r" (?:feature|skill|module) ")
_NOT_FEATURES = frozenset("""
a an the any this that it license licence internet new more another other extra each every which what skills features
modules
""".split())
#: a command, not a question: "activate with my key", "enter license key"
_COMMAND = re.compile(r"^ (?:please )?(?:activate|deactivate|register|unregister|refresh|update|enter|use|consume|"
                      r"clear|wipe|check|verify|validate|reload|create|make|generate|roll|convert|count|quit|exit|"
                      r"apply|run|record|spend|release|paste|redeem|submit|input|type)\b")


def match(line: str, asked: bool) -> tuple[str, str | None] | None:
    """(fact, feature or None) the tokenised, space-padded ``line`` asks for; None when it asks none.

    ``asked``: the line is a question (see :mod:`chatbot.intents.questions`).
    """
    line = _MY_LIC.sub(lambda m: m[0].replace(" lic ", " license "), line)
    words = line.split()
    if not (asked or _SHOW.search(line) or len(words) <= _SHORT) or (_COMMAND.search(line) and not asked):
        return None
    concept = _CONCEPT.search(line) is not None and _FIRST_PERSON.search(line) is None
    if concept or any(regex.search(line) for regex in (_HOW_TO, _REASON, _WHAT_IF, _GRACE_RULE)):
        return None
    for fact, patterns in FACT_TABLE:
        for pattern in patterns:
            found = pattern.search(line)
            if found is None:
                continue
            if fact == "feature":
                feature = found.group("feature")
                named = _NAMED_FEATURE.search(line) is not None
                if feature in _NOT_FEATURES or not (named or feature in FEATURE_WORDS):
                    continue
                return fact, feature
            if (fact in _OWNED or " grace " in line) and not (_FIRST_PERSON.search(line) or _STATE_WORD.search(line)
                                                                 or len(words) <= _SHORT):
                continue
            return fact, None
    return None
