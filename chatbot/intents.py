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

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from rapidfuzz import fuzz, process

__all__ = [
    "Intent",
    "parse",
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

# --------------------------------------------------------------------------
# Intent names
# --------------------------------------------------------------------------
ACTIVATE_ONLINE = "activate_online"
ACTIVATE_OFFLINE = "activate_offline"
CREATE_ACTIVATION_REQUEST = "create_activation_request"
DEACTIVATE_ONLINE = "deactivate_online"
DEACTIVATE_OFFLINE = "deactivate_offline"
REFRESH_OFFLINE = "refresh_offline"
CHECK_ONLINE = "check_online"
LOCAL_CHECK = "local_check"
LICENSE_STATUS = "license_status"
LIST_FEATURES = "list_features"
CONSUME = "consume"
IS_ONLINE = "is_online"
CLEAR_STORAGE = "clear_storage"
RELOAD_LICENSE = "reload_license"
HELP = "help"
QUIT = "quit"
SKILL_JOKE = "skill_joke"
SKILL_WORDCOUNT = "skill_wordcount"
SKILL_CONVERT = "skill_convert"
SKILL_DICE = "skill_dice"
SKILL_TIME = "skill_time"
UNKNOWN = "unknown"
CLARIFY = "clarify"

INTENT_NAMES: tuple[str, ...] = (
    ACTIVATE_ONLINE, ACTIVATE_OFFLINE, CREATE_ACTIVATION_REQUEST,
    DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE, REFRESH_OFFLINE, CHECK_ONLINE,
    LOCAL_CHECK, LICENSE_STATUS, LIST_FEATURES, CONSUME, IS_ONLINE,
    CLEAR_STORAGE, RELOAD_LICENSE, HELP, QUIT, SKILL_JOKE, SKILL_WORDCOUNT,
    SKILL_CONVERT, SKILL_DICE, SKILL_TIME, UNKNOWN, CLARIFY,
)

#: Intents that lose a seat, local data or the session: never fuzzy-guessed.
DESTRUCTIVE_INTENTS: frozenset[str] = frozenset(
    {DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE, CLEAR_STORAGE, QUIT}
)

SLOT_NAMES: tuple[str, ...] = (
    "path", "key", "count", "sides", "value", "unit_from", "unit_to", "text",
)

_UNKNOWN_SUGGESTION: tuple[str, ...] = (HELP,)


@dataclass(frozen=True)
class Intent:
    """The parse of one utterance.

    ``slots`` holds only values the user typed (read-only mapping);
    ``candidates`` lists intent names to offer for ``clarify`` (and a
    suggestion such as ``("help",)`` for ``unknown``).
    """

    name: str
    slots: Mapping[str, object] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in INTENT_NAMES:
            raise ValueError(f"unknown intent name: {self.name!r}")
        object.__setattr__(self, "slots", MappingProxyType(dict(self.slots)))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    def __hash__(self) -> int:
        return hash((self.name, frozenset(self.slots.items()), self.candidates))

    def __reduce__(self) -> tuple[type[Intent], tuple[str, dict[str, object], tuple[str, ...]]]:
        # MappingProxyType cannot be pickled; rebuild from a plain dict.
        return (Intent, (self.name, dict(self.slots), self.candidates))

    def as_dict(self) -> dict[str, object]:
        """A plain, JSON-friendly copy: {"name", "slots", "candidates"}."""
        return {"name": self.name, "slots": dict(self.slots),
                "candidates": list(self.candidates)}


# --------------------------------------------------------------------------
# Vocabulary (built once at import)
# --------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# concept -> surface forms.  Every surface form maps to its concept token.
_CONCEPT_FORMS: Mapping[str, str] = MappingProxyType({
    "activate": "activate activates activating register registers registering "
                "reactivate reactivates reactivating",
    "activation": "activation activations registration registrations reactivation",
    "activated": "activated registered reactivated",
    "deactivate": "deactivate deactivates deactivating deactivation deactivations "
                  "unregister unregisters unregistering unregistration "
                  "deregister deregisters deregistering deregistration",
    "deactivated": "deactivated unregistered deregistered",
    "release": "release releases releasing",
    "license": "license licence licenses licences licensed licenced licensing "
               "licencing lisence lisense liscence liscense licsence lycense "
               "licensee subscription subscriptions trial",
    "offline": "offline airgapped airgap manually",
    "online": "online",
    "internet": "internet network wifi",
    "software": "software",
    "request": "request requests req",
    "refresh": "refresh refreshes refreshing refreshed",
    "update": "update updates updating updated",
    "check": "check checks checking checked validate validates validating "
             "validated validation verify verifies verifying verified verification",
    "local": "local locally",
    "server": "server servers",
    "status": "status valid invalid expire expires expired expiring expiry "
              "expiration edition tier",
    "feature": "feature features entitlement entitlements entitled module modules "
               "include includes included",
    "consume": "consume consumes consuming consumed consumption",
    "credit": "credit credits",
    "use": "use uses using used",
    "spend": "spend spends spending spent deduct deducts deducting burn burns",
    "record": "record records recording",
    "clear": "clear clears clearing wipe wipes wiping wiped erase erases erasing "
             "erased purge purges purging purged clean cleans cleaning delete "
             "deletes deleting deleted remove removes removing reset resets resetting "
             "uninstall uninstalls",
    "forget": "forget forgets forgetting",
    "storage": "storage store stored cache cached data everything state files saved",
    "reload": "reload reloads reloading reloaded reread rereads rereading",
    "load": "load loads loading",
    "help": "help helps assist assistance commands command menu options usage "
            "instructions",
    "quit": "quit quits exit exits goodbye bye farewell cya byebye",
    "joke": "joke jokes joking funny laugh pun puns",
    "roll": "roll rolls rolling throw throws toss tosses",
    "dice": "dice dices",
    "die": "die",
    "convert": "convert converts converting conversion",
    "word": "word words",
    "count": "count counts counting",
    "create": "create creates creating make makes making generate generates "
              "generating build produce produces export exports write save prepare",
    "key": "key keys serial",
    "enter": "enter input submit redeem paste",
    "file": "file",
    "device": "device machine computer laptop seat",
    "connected": "connected connection connectivity reachable unreachable "
                 "disconnected ping pinging",
    "time": "time clock",
    "oos": "buy buying bought purchase purchasing purchased price prices pricing "
           "cost costs costing pay paying payment payments refund refunds "
           "transfer transfers transferring transferred cancel cancellation "
           "subscribe weather forecast discount discounts coupon coupons invoice "
           "invoices billing sell selling cheaper cheapest expensive upgrade "
           "upgrading renew renewal renewing account accounts password passwords",
})

_CANON: Mapping[str, str] = MappingProxyType({
    form: concept
    for concept, forms in _CONCEPT_FORMS.items()
    for form in forms.split()
})

# Words a user types that must never be "corrected" into a command word.
_COMMON_WORDS: frozenset[str] = frozenset(_words("""
a about above across actually add added after again against ago agree ahead
all almost alone along already also although always am among an and another
answer any anybody anyone anything anyway anywhere app apple apply applied
are area around arrive art article as ask asked asking at away awesome back
bad bag ball bank base basic be bear beat beautiful because become bed been
before begin behind being believe below best better between beyond big bit
black blue board boat body book born both bother bottle bottom bought box boy
brain bread break bring broke broken brother brown bug build built bus busy
but by cake call called came can cannot car card care careful carry case cash
cast cat catch cause ceiling certain chain chair chance change changed chart
chat cheap cheat cheek cheer cheese cheque chest chick chicken child chuck
church city class clause clever click client climb close closed closer cloud
clouds club coach coat code coffee coin cold collar color colour come comes
coming common company complete completely computers connect contact control
cool copy corner correct could couldnt count country couple course cover crate
crazy create credible crew crime cross cup current currently cut dad daily
dance dark date day days dead deal dear decide deep delay dear design desk
detail did didnt die different dinner direct disk dinner dish do doctor does
doesnt dog doing done door double doubt down draw dream dress drink drive
drop dry due during each ear early earth easy eat edit effect eight either
else email end enough enter entire error even evening ever every exact
exactly example exist exists expect explain eye face fact fail fair fall
false family far farm fast father fear feel feet fell felt few field fight
figure fill film final finally find fine finger finish fire first fish fit
five fix fixed flat flip floor fly follow food foot for force forgot forgotten
form forward found four free fresh friend from front full fun game garden
gate gave get gets getting gift girl give given glad glass go goes going gone
good got great green ground group grow guess guy had hair half hand happen
happy hard has hat hate have having he head hear heard heart heat heavy held
hell hello hey hi high hill him his hit hold hole home hope horse hot hour
house how however huge human hundred hurt i idea if ill important in inside
instead into is issue it item its job join just keep kept kid kind king
kitchen knew know known lady land language large last late later laugh law
lay lead leader learn lease least leave led left leg less let letter level
lie life light like likely line list listen little live lived load loan lock
long look lord lose loss lost lot loud love low luck lunch made mail main
major man many map mark market matter may maybe me mean meant meet member
men mention message met middle might mile mind mine minute miss mixed model
moment money month more morning most mother move movie much music must my
myself name near nearly need never new news next nice night nine no none nor
normal not note nothing notice now number of off offer office often oh ok
okay old on once one only open or order other our out outside over own page
paid pain paint paper parent part party pass past path pause peace people
per perfect perhaps person phone pick picture piece place plan plane plant
play player please plenty point police poor popular possible post power
practice prefer present press pretty print private probably problem program
promise proper public pull push put question quick quickly quiet quite race
radio rain raise ran rate rather reach read ready real really reason receive
recent red relax remember repeat reply report rest result return rice rich
ride right ring rise river road rock role room round rule run safe said sale
same sat save saw say school score sea search season second see seem seen
self send sense sent series serious serve service set seven several shall
share she sheet ship shirt shoe shop short should show shut sick side sign
simple since sing single sister sit site six size skill skin sleep slow small
smart smile snow so soft some someone something sometimes son song soon
sorry sort sound south space speak special speed spell spot spring staff
stage stand star stare start station stay step still stock stone stop story
street strong student study stuff style such suit summer sun sure surely
system table tail take taken talk task tax tea teach team tell ten term test
text than thank thanks that the their them then there these they thing think
third this those though thought three through throughout tick ticket tide
tie till tile tiny tip tired title to today together told tomorrow tone too
took top total touch toward town track trade train tree trial trip trouble
true truly trust try turn twice two type under understand unit until up upon
us user usual usually value very view visit voice wait walk wall want war
warm was wash watch water way we wear week weight welcome well went were
west what whatever when where whether which while white who whole why wide
wife will win wind window wine winter wise wish with within without woman
wonder wonderful wont wood work worked worker working world worry would write
wrong yard yeah year yes yet you young your yours yourself zone
able achieve action active actively activity actual adapt addition address
advice again allow allowed answering appear approach attach attached audio
avoid basically became belong beside besides block brand branch browse case
certainly chosen cleaner clearly clever closing cloudy collect combine
confirm consider console contains context
correctly creative credible crease curious declare decline default define
deliver detail device devices direction directly disable disabled discount
display download downloaded downloads easily enable enabled encrypted entry
especially event exactly except expect extra factory fairly feature field
finished folder forever format frame freely fully further generally handle
honestly ideal ignore image include included increase indeed install
installed instance issue itself kindly latest launch least lease leased legal
liable likely limit linked listed literally loaded locate located lovely
mainly manage maybe merely method mostly nearly neither normally obviously
occur online ordinary original otherwise output overall particular perhaps
personal phrase please pleased pleasure plus possibly potentially previous
previously properly purpose quickly rarely rather readme realise realize
really reason receipt recently reckon regard regular relate released reload
remain remote repeat replace replay represent require required resolve
response restart result return reverse review saying screen section seems
select setting settings shared simply somehow somewhat source specific
started starting still strange stuck suddenly suggest support supposed
surely sync thanks thing tried trying turned typed typing unless unlike
update useful username usual various version versions weird whenever whole
wonder works worse worth wrote yesterday
sided sides faced faces times twice once
process stat requires locale locales sorted writer writers shell shells
contain contains indices futures future counter counters watcher readable
matching leading formatting product products producer timer timed starts
related registry listener const parents thrown collection users reuse
delegate general sending printing pointing pure purse modulo detected
detecting checker generation exiting deletion sends pieces marks invokes
invoke building fixes restrictions spelling resent prime transformed
transform extraction convention resolves resolving modulus worst filed
fills films fires fines computing express dealing emits chapter leads
interest intern interpret intent intranet speeds stale slate serves served
severe services rendering marking correction variation variations
conjunction corners restarting cloning relocated locating amounts choosing
speeding exporting expert experts fleas masks relating detecting extensive
ease removals introduction construction casting heaps paging contention
concerning maker stealing prize pride prince primes seeding masking relaxed
stated edits loans quilt chock court county concert convent cloak shore
score storm stork stove stole roles wives wines rest forest forged devise
compute computed commuter loyal shortage playing praying pavement smell
smelling swell swelling settling brought billion empire statue states
statues funky costume consumer option optional mode modes model models
created creates creating generated generator removed prepared saves menus
networks machines connections requested stores recorder recorded fails
exported unreadable interactions intercept dies
""")) | frozenset({"hey", "hello", "hiya", "thx", "pls", "plz", "lol", "ok"})

_NUMBER_UNITS: Mapping[str, int] = MappingProxyType({
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
})
_NUMBER_TENS: Mapping[str, int] = MappingProxyType({
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
})
_NUMBER_SCALES: Mapping[str, int] = MappingProxyType({"hundred": 100, "thousand": 1000})
_NUMBER_WORDS: frozenset[str] = (
    frozenset(_NUMBER_UNITS) | frozenset(_NUMBER_TENS) | frozenset(_NUMBER_SCALES)
)

# Unit names recognised for conversion (matched case-insensitively, returned as typed).
_UNIT_NAMES: tuple[str, ...] = _words("""
millimeters millimetres millimeter millimetre mm centimeters centimetres
centimeter centimetre cm meters metres meter metre m kilometers kilometres
kilometer kilometre km inches inch in feet foot ft yards yard yd miles mile mi
milligrams milligram mg grams gram grammes gramme g kilograms kilogram
kilogrammes kilogramme kilos kilo kg pounds pound lbs lb ounces ounce oz stones
stone st tonnes tonne tons ton celsius centigrade fahrenheit kelvin c f k
milliliters millilitres milliliter millilitre ml liters litres liter litre l
gallons gallon gal quarts quart qt pints pint pt cups cup tablespoons
tablespoon tbsp teaspoons teaspoon tsp mph kph km/h kmh m/s knots knot
seconds second secs sec s minutes minute mins min hours hour hrs hr h days day
weeks week years year bytes byte kilobytes kilobyte kb megabytes megabyte mb
gigabytes gigabyte gb terabytes terabyte tb acres acre hectares hectare
""")

# Contractions after apostrophes are removed.
_CONTRACTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "whats": ("what", "is"), "im": ("i", "am"), "hows": ("how", "is"),
    "isnt": ("is", "not"), "arent": ("are", "not"), "dont": ("do", "not"),
    "doesnt": ("does", "not"), "cant": ("can", "not"), "cannot": ("can", "not"),
    "wont": ("will", "not"), "thats": ("that", "is"), "whos": ("who", "is"),
    "wheres": ("where", "is"), "whens": ("when", "is"), "youre": ("you", "are"),
    "heres": ("here", "is"), "theres": ("there", "is"), "its": ("it", "is"),
    "ive": ("i", "have"), "lets": ("let", "us"), "todays": ("today",),
    "u": ("you",), "ur": ("your",), "pls": ("please",), "plz": ("please",),
    "thx": ("thanks",), "wanna": ("want", "to"), "whatre": ("what", "are"),
    "didnt": ("did", "not"), "aint": ("is", "not"), "wasnt": ("was", "not"),
})

# --------------------------------------------------------------------------
# Regexes
# --------------------------------------------------------------------------
_KEY_RE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3}(?![A-Za-z0-9-])")

_QUOTED_RE = re.compile(
    r"""(?:(?<=^)|(?<=[\s(=:,]))(?:"([^"\n]+)"|'([^'\n]+)'|“([^”\n]+)”|‘([^’\n]+)’)"""
    r"""(?=$|[\s.,;:!?)])"""
)
_LOOKS_LIKE_PATH_RE = re.compile(
    r"(?:^~|^\.{1,2}[\\/]|[\\/]|^[A-Za-z]:|\.(?:lic|req)$)", re.IGNORECASE
)
# Anchored paths that end in .lic/.req may contain spaces (bounded length).
_SPACED_PATH_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s(=,]))"
    r"(?:[A-Za-z]:[\\/]|\\\\|~[\\/]|\.{1,2}[\\/]|/)"
    r"[^\n\"'<>|*?]{0,255}?\.(?:lic|req)(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
_PLAIN_PATH_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s(=,]))"
    r"(?:[^\s\"'<>|*?]+\.(?:lic|req)(?![A-Za-z0-9_])"
    r"|(?:[A-Za-z]:[\\/]|\\\\|~[\\/]?|\.{1,2}[\\/]|/)[^\s\"'<>|*?]+)",
    re.IGNORECASE,
)
_TRAILING_PUNCT_RE = re.compile(r"[.,;:!?)\]]+$")
_PATH_EXT_RE = re.compile(r"\.(?:lic|req)$", re.IGNORECASE)
# "/quit", "/help" at the start of a line: chat slash-commands, not paths.
_SLASH_COMMAND_RE = re.compile(r"/[A-Za-z]+")

_APOSTROPHES_RE = re.compile(r"[’‘`´]")
_POSSESSIVE_RE = re.compile(r"([a-z0-9]+)'s\b")
_TOKEN_RE = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*|[0-9]+(?:\.[0-9]+)?")
# Multi-word spellings, applied to the space-joined token string.
_NO_NET = r"(?:internet|network|wifi|connection|connectivity)(?: connection| access)?"
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\boff line\b", "offline"),
        (r"\bon line\b", "online"),
        (r"\bair ?gap(?:ped)?\b", "offline"),
        (rf"\b(?:without|no) (?:an |a |the |any )?{_NO_NET}\b", "offline"),
        (rf"\b(?:do|does|did|can) not have (?:an |a |the |any )?{_NO_NET}\b", "offline"),
        (r"\b(?:not|never) (?:connected|online)"
         r"(?: to (?:the )?(?:internet|network|server|wifi))?\b", "offline"),
        # "get this activated" asks for activation; "is it activated" asks for status
        (r"\bget((?: [a-z]+){0,3}) (?:activated|registered)\b", r"get\1 activate"),
        (r"\bgood bye\b", "goodbye"),
        (r"\bbye bye\b", "bye"),
        (r"\bsee (?:you|ya)(?: later| soon)?\b", "goodbye"),
        (r"\bre (read|load|activate|activation|register)\b", r"re\1"),
        (r"\bde (activate|activation|register|registration)\b", r"de\1"),
        (r"\bun (register|install)\b", r"un\1"),
        (r"\bcheck for updates?\b", "software update"),
    )
)

_NUM_WORD_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
# Number words are bounded ({0,10}) so a long run of them cannot make the
# conversion regexes backtrack quadratically.
_NUM_PAT = (
    rf"(?:-?[0-9]{{1,12}}(?:\.[0-9]{{1,12}})?(?![0-9])"
    rf"|\b(?:{_NUM_WORD_ALT})(?:[\s-]+(?:and[\s-]+)?(?:{_NUM_WORD_ALT})){{0,10}}\b)"
)
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNIT_NAMES, key=len, reverse=True))
_UNIT_PAT = (
    rf"(?:(?:degrees?\s+|deg\s+|°\s*|º\s*|fluid\s+|square\s+|sq\s+|cubic\s+)?"
    rf"(?:{_UNIT_ALT})(?:\s+per\s+(?:hour|second|minute))?)(?![\w/])"
)
_ANY_UNIT_PAT = r"(?:°?[A-Za-z][A-Za-z/]*)"
_CONVERSION_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # how many feet (are there) in 3 meters
        rf"\bhow\s+many\s+(?P<to>{_UNIT_PAT})\s+(?:are\s+)?(?:there\s+)?in\s+"
        rf"(?:an?\s+)?(?:(?P<num>{_NUM_PAT})\s*)?(?P<from>{_UNIT_PAT})",
        # (convert) 10 km to miles / what is 5 kg in pounds
        rf"(?<![\w.])(?P<num>{_NUM_PAT})\s*(?P<from>{_UNIT_PAT})\s+"
        rf"(?:to|in|into|as)\s+(?P<to>{_UNIT_PAT})",
        # convert km to miles
        rf"\bconvert\s+(?:from\s+)?(?P<from>{_UNIT_PAT})\s+(?:to|into|in)\s+(?P<to>{_UNIT_PAT})",
        # convert 10 km
        rf"\bconvert\s+(?P<num>{_NUM_PAT})\s*(?P<from>{_UNIT_PAT})",
        # convert 3 furlongs to parsecs (units the bot may not know)
        rf"\bconvert\s+(?P<num>{_NUM_PAT})\s*(?P<from>{_ANY_UNIT_PAT})"
        rf"(?:\s+(?:to|into|in)\s+(?P<to>{_ANY_UNIT_PAT}))?",
    )
)
_LICENSE_WORD_RE = re.compile(r"licen[cs]", re.IGNORECASE)

_POLITE_PREFIX = (
    r"^(?:(?:hey|hi|ok|okay|so|now|and|bot)[,!]?\s+)*"
    r"(?:(?:please|pls|kindly|can\s+you|could\s+you|would\s+you|will\s+you|"
    r"i\s+want\s+you\s+to|i'd\s+like\s+you\s+to)\s+)*"
)
_TEXT_NOUN = r"(?:text|sentence|string|phrase|line|message|words)"
_TEXT_INTRO = (
    r"(?:\s+(?:in|of|for|on))?"
    rf"(?:\s+(?:(?:the\s+)?following(?:\s+{_TEXT_NOUN})?|(?:this|the|my)\s+{_TEXT_NOUN}))?"
    r"\s*[:\-–]?\s*(?P<text>.*)$"
)
_WORDCOUNT_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE | re.DOTALL)
    for p in (
        _POLITE_PREFIX + r"(?:count|tally)\s+(?:up\s+)?(?:the\s+|all\s+(?:the\s+)?)?"
        r"(?:number\s+of\s+)?words?\b" + _TEXT_INTRO,
        r"\bword[\s-]?count\b" + _TEXT_INTRO,
        r"\bhow\s+many\s+words\s+(?:are\s+)?(?:there\s+)?(?:in|does)\b" + _TEXT_INTRO,
    )
)
_QUOTE_PAIRS: Mapping[str, str] = MappingProxyType(
    {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}
)

_DICE_NOTATION_RE = re.compile(r"([0-9]{0,6})d([0-9]{1,6})")
_NUMBER_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_INT_RE = re.compile(r"-?[0-9]{1,12}")
_FLOAT_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,12}")
_NUMBER_SPLIT_RE = re.compile(r"[\s-]+")
_CLOSE_APP_RE = re.compile(r" close (?:the |this )?(?:app|program|chat|session|bot) ")
# "how many words does X have?": drop the trailing verb of the question.
_WORDCOUNT_TAIL_RE = re.compile(r"\s+(?:have|contain|has)\s*\??\s*$", re.IGNORECASE)

# --------------------------------------------------------------------------
# Concept groups used by the rules
# --------------------------------------------------------------------------
_LICENSING = frozenset({
    "license", "activate", "activation", "activated", "deactivate", "deactivated",
    "offline", "online", "request", "refresh", "status", "feature",
    "consume", "credit", "server", "reload", "key", "storage",
})
_ACTION_VERBS = frozenset({
    "activate", "deactivate", "refresh", "clear", "consume", "create", "reload",
    "update", "forget", "release",
})
_RELEASE_CONTEXT = frozenset({
    "license", "device", "activation", "offline", "online", "key",
})
_STORAGE_TARGETS = frozenset({"storage", "local", "all", "factory"})
_ONLINE_WORDS = frozenset({"online", "internet", "server"})
_SIDES_WORDS = frozenset({"sided", "sides", "side", "faced", "faces"})
_FILLER = frozenset(_words("""
a an the me i you we us please can could would will do does need want some
any just so ok okay now hi hello hey there bot thanks thank again with this
my it is are am be get give show tell let
"""))
_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "morning", "yo", "greetings"})
_NETWORK_WORDS = frozenset({"internet", "server", "connected"})
_TROUBLE = frozenset(_words("""
why fail fails failed failing failure error errors problem problems issue
issues broken wrong trouble
"""))

_HELP_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r" help (?:with|on|about|regarding|for) ",
    r" (?:need|want|get|some|any) help ",
    r" what (?:else )?(?:can|do|could) (?:you|i) (?:do|help|offer|handle) ",
    r" what (?:are|is) (?:your|the) (?:help|skills|abilities|capabilities) ",
    r" how (?:does|do|did|will) (?:\w+ ){0,8}work",
    r" how (?:do|can|could|should|would|will|must) (?:i|you|we|one) ",
    r" how to ",
    r" (?:explain|describe) ",
    r" tell me (?:about|more) ",
    r" what (?:is|are) (?:a|an) ",
    r" what is (?:offline |online )?(?:activation|refresh|deactivate|check) ",
    r" what (?:does|do) (?:\w+ ){1,8}mean ",
    r" what (?:does|do|will|would) (?:the )?\w+ (?:command )?do ",
    r" do (?:i|you|we) (?:need|have to) ",
    r" possible ",
    r" differences? between ",
    r" (?:who|what) are you ",
    r" what is this ",
))
_TIME_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r" what (?:time|date|day|year|month) ",
    r" date today ",
    r" (?:current|the|local|today|exact) (?:time|date|day) ",
    r" time (?:is it|now|please|right now) ",
    r" what is today ",
    r" what day is (?:it|today) ",
    r" (?:tell|give|show) me the (?:time|date|day) ",
    r"^ (?:time|date|today|clock) $",
))
_IS_ONLINE_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r" (?:am|are|is) (?:i|we|you|it|this|the app|the computer|my computer|"
    r"the device|my device|this device|the machine|my machine|this machine) "
    r"(?:currently |still |now |even |really )?(?:online|offline|connected) ",
    r" connected ",
    r" if (?:i am|we are|it is|the app is|this is|the server is) (?:online|offline|up|down) ",
    r" (?:server|internet) (?:is |are )?(?:up|down|reachable|available|online|"
    r"running|alive|working|ok|okay|there) ",
    r" is (?:the |my )?(?:license |licensing )?(?:server|internet) ",
    r" can (?:you|i|we) (?:reach|contact|connect|see|talk|get)(?: to| with)? (?:the )?"
    r"(?:license |licensing )?(?:server|internet)",
    r" (?:do|does) (?:i|we|you|it|this|the app) have (?:any )?(?:internet|a connection) ",
    r" (?:online|server|internet) status ",
    r" status of (?:the )?(?:license )?(?:server|internet|connection) ",
))
_OOS_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r" how much (?:does|do|is|for|would|will|are|money|to) ",
))


def _pattern_words(patterns: Iterable[re.Pattern[str]]) -> frozenset[str]:
    """Literal words the rule regexes look for: these are never corrected."""
    return frozenset(w for p in patterns for w in re.findall(r"[a-z]{2,}", p.pattern))


# --------------------------------------------------------------------------
# Typo correction tables
# --------------------------------------------------------------------------
_KNOWN: frozenset[str] = (
    frozenset(_CANON) | _COMMON_WORDS | _NUMBER_WORDS
    | frozenset(u for u in _UNIT_NAMES if u.isalpha()) | frozenset(_CONTRACTIONS)
    | _FILLER | _GREETINGS | _SIDES_WORDS | _STORAGE_TARGETS | _RELEASE_CONTEXT | _TROUBLE
    | _pattern_words(_HELP_RES + _TIME_RES + _IS_ONLINE_RES + _OOS_RES)
)

# Typo targets: the command vocabulary (long enough to be worth correcting).
_FUZZ_TARGETS: tuple[str, ...] = tuple(sorted(w for w in _CANON if len(w) >= 4))
_FUZZ_CUTOFF = 80.0
_FUZZ_MIN_LEN = 4
_FUZZ_MAX_LEN_GAP = 1


def _build_fuzz_buckets() -> Mapping[tuple[str, int], tuple[str, ...]]:
    """Targets keyed by (first letter, token length).

    A typo rarely hits the first letter and rarely changes the length by more
    than one; restricting candidates this way keeps real words such as
    "mode" (-> module), "failed" (-> file) or "unclear" (-> clear) intact.
    """
    buckets: dict[tuple[str, int], list[str]] = {}
    for target in _FUZZ_TARGETS:
        for length in range(len(target) - _FUZZ_MAX_LEN_GAP, len(target) + _FUZZ_MAX_LEN_GAP + 1):
            buckets.setdefault((target[0], length), []).append(target)
    return MappingProxyType({k: tuple(v) for k, v in buckets.items()})


def _transpositions(word: str) -> Iterable[str]:
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _build_transposition_table() -> Mapping[str, str]:
    table: dict[str, str] = {}
    for target in _FUZZ_TARGETS:
        for variant in _transpositions(target):
            if variant not in _KNOWN:
                table.setdefault(variant, target)
    return MappingProxyType(table)


_TRANSPOSED: Mapping[str, str] = _build_transposition_table()
_FUZZ_BUCKETS: Mapping[tuple[str, int], tuple[str, ...]] = _build_fuzz_buckets()

# --------------------------------------------------------------------------
# Slot extraction
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Extracted:
    rest: str
    path: str | None
    key: str | None


def _strip_path(candidate: str) -> str:
    if _PATH_EXT_RE.search(candidate):
        return candidate
    return _TRAILING_PUNCT_RE.sub("", candidate)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _find_path(text: str) -> tuple[str | None, str]:
    """First path in ``text`` (quoted, spaced or plain) and the text without it."""
    for quoted in _QUOTED_RE.finditer(text):
        inner = next(g for g in quoted.groups() if g is not None).strip()
        if inner and _LOOKS_LIKE_PATH_RE.search(inner):
            return inner, _blank(text, quoted.start(), quoted.end())
    for regex in (_SPACED_PATH_RE, _PLAIN_PATH_RE):
        found = regex.search(text)
        if found is None:
            continue
        path = _strip_path(found.group(0))
        slash_command = found.start() == 0 and _SLASH_COMMAND_RE.fullmatch(path)
        if path and not slash_command:
            return path, _blank(text, found.start(), found.start() + len(path))
    return None, text


def _extract(text: str) -> _Extracted:
    path, rest = _find_path(text)
    key_match = _KEY_RE.search(rest)
    key = key_match.group(0) if key_match else None
    if key_match:
        rest = _blank(rest, key_match.start(), key_match.end())
    return _Extracted(rest=rest, path=path, key=key)


def _path_kind(path: str | None) -> str | None:
    if path is None:
        return None
    lowered = path.lower()
    if lowered.endswith(".lic"):
        return "lic"
    if lowered.endswith(".req"):
        return "req"
    return "other"


# --------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------
def _number_from_words(words: Sequence[str], start: int = 0) -> tuple[int | None, int]:
    """Parse the run of number words at ``words[start:]``; (value, words consumed)."""
    total, current, used, last = 0, 0, 0, ""
    for i in range(start, len(words)):
        word = words[i]
        if word == "and" and last in ("hundred", "thousand") and i + 1 < len(words) \
                and words[i + 1] in _NUMBER_WORDS and words[i + 1] not in _NUMBER_SCALES:
            continue
        if word in _NUMBER_UNITS:
            if last in _NUMBER_UNITS:
                break
            if last in _NUMBER_TENS and _NUMBER_UNITS[word] >= 10:
                break
            current += _NUMBER_UNITS[word]
        elif word in _NUMBER_TENS:
            if last in _NUMBER_UNITS or last in _NUMBER_TENS:
                break
            current += _NUMBER_TENS[word]
        elif word == "hundred":
            if last in ("hundred", "thousand"):
                break
            current = (current or 1) * 100
        elif word == "thousand":
            if last == "thousand":
                break
            total += (current or 1) * 1000
            current = 0
        else:
            break
        last, used = word, i + 1 - start
    if used == 0:
        return None, 0
    return total + current, used


def _to_number(text: str) -> int | float | None:
    """A number typed as digits or words, or None."""
    text = text.strip()
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    words = [w for w in _NUMBER_SPLIT_RE.split(text.lower()) if w]
    value, used = _number_from_words(words)
    return value if used else None


def _merge_number_words(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] in _NUMBER_WORDS:
            value, used = _number_from_words(tokens, i)
            if used:
                out.append(str(value))
                i += used
                continue
        out.append(tokens[i])
        i += 1
    return out


def _int_token(token: str) -> int | None:
    if token.isdigit() and len(token) <= 9:
        return int(token)
    return None


# --------------------------------------------------------------------------
# Tokenising and typo correction
# --------------------------------------------------------------------------
def _drop_possessive(match: re.Match[str]) -> str:
    """"wife's" -> "wife", but keep contractions such as "what's" -> "whats"."""
    joined = match.group(1) + "s"
    return joined if joined in _CONTRACTIONS else match.group(1)


def _tokenise(text: str) -> list[str]:
    lowered = _APOSTROPHES_RE.sub("'", text.lower())
    lowered = _POSSESSIVE_RE.sub(_drop_possessive, lowered).replace("'", "")
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(lowered):
        tokens.extend(_CONTRACTIONS.get(token, (token,)))
    joined = " ".join(tokens)
    for regex, replacement in _PHRASES:
        joined = regex.sub(replacement, joined)
    return _merge_number_words(joined.split())


def _correct(token: str) -> str | None:
    """The command word ``token`` is a typo of, or None."""
    if len(token) < _FUZZ_MIN_LEN or not token.isalpha() or token in _KNOWN:
        return None
    if token in _TRANSPOSED:
        return _TRANSPOSED[token]
    choices = _FUZZ_BUCKETS.get((token[0], len(token)))
    if not choices:
        return None
    match = process.extractOne(token, choices, scorer=fuzz.ratio,
                               score_cutoff=_FUZZ_CUTOFF)
    return match[0] if match else None


def _canonical(tokens: Sequence[str]) -> tuple[str, ...]:
    return tuple(_CANON.get(t, t) for t in tokens)


def _corrected(tokens: Sequence[str]) -> tuple[str, ...]:
    out = []
    for token in tokens:
        fixed = _correct(token)
        out.append(fixed if fixed is not None else token)
    return _canonical(out)


# --------------------------------------------------------------------------
# The view the rules look at
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _View:
    words: tuple[str, ...]
    bag: frozenset[str]
    line: str
    path_kind: str | None
    has_key: bool

    @classmethod
    def build(cls, words: tuple[str, ...], extracted: _Extracted) -> _View:
        return cls(
            words=words,
            bag=frozenset(words),
            line=" " + " ".join(words) + " ",
            path_kind=_path_kind(extracted.path),
            has_key=extracted.key is not None,
        )

    def has(self, *concepts: str) -> bool:
        return any(c in self.bag for c in concepts)

    def matches(self, patterns: Iterable[re.Pattern[str]]) -> bool:
        return any(p.search(self.line) for p in patterns)

    @property
    def has_number(self) -> bool:
        return any(_NUMBER_TOKEN_RE.fullmatch(w) for w in self.words)

    @property
    def licensing(self) -> bool:
        return bool(self.bag & _LICENSING) or self.has_key or self.path_kind is not None


_Decision = tuple[str, tuple[str, ...]]
_Rule = Callable[[_View], _Decision | None]


def _pick(name: str) -> _Decision:
    return name, ()


def _ask(*candidates: str) -> _Decision:
    return CLARIFY, tuple(candidates)


# --------------------------------------------------------------------------
# Rules (ordered: the first that fires wins)
# --------------------------------------------------------------------------
def _rule_out_of_scope(v: _View) -> _Decision | None:
    if "oos" in v.bag or v.matches(_OOS_RES) or " software update " in v.line:
        return UNKNOWN, _UNKNOWN_SUGGESTION
    if v.has("move", "give", "share", "lend", "sell", "gift", "convert") and v.has("license"):
        return UNKNOWN, _UNKNOWN_SUGGESTION
    return None


def _rule_help(v: _View) -> _Decision | None:
    if v.matches(_HELP_RES):
        return _pick(HELP)
    if "help" in v.bag and v.bag <= (_FILLER | {"help"}):
        return _pick(HELP)
    return None


def _rule_quit(v: _View) -> _Decision | None:
    if "quit" in v.bag and not v.licensing and not v.has("joke", "roll", "dice", "convert"):
        return _pick(QUIT)
    if _CLOSE_APP_RE.search(v.line):
        return _pick(QUIT)
    return None


def _rule_joke(v: _View) -> _Decision | None:
    return _pick(SKILL_JOKE) if "joke" in v.bag else None


def _rule_dice(v: _View) -> _Decision | None:
    if v.licensing:
        return None
    if v.has("roll", "dice") or any(_DICE_NOTATION_RE.fullmatch(w) for w in v.words):
        return _pick(SKILL_DICE)
    if "die" in v.bag and (v.has_number or v.bag & _SIDES_WORDS):
        return _pick(SKILL_DICE)
    return None


def _rule_time(v: _View) -> _Decision | None:
    if v.licensing or not v.matches(_TIME_RES):
        return None
    return _pick(SKILL_TIME)


def _deactivate_requested(v: _View) -> bool:
    if "deactivate" in v.bag:
        return True
    return "release" in v.bag and bool(v.bag & _RELEASE_CONTEXT)


def _rule_deactivate(v: _View) -> _Decision | None:
    if not _deactivate_requested(v):
        return None
    offline = v.has("offline", "request", "file") or v.path_kind in ("lic", "req")
    online = bool(v.bag & _ONLINE_WORDS)
    if offline and not online:
        return _pick(DEACTIVATE_OFFLINE)
    if online and not offline:
        return _pick(DEACTIVATE_ONLINE)
    return _ask(DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE)


def _rule_clear(v: _View) -> _Decision | None:
    if not v.has("clear", "forget"):
        return None
    if v.bag & _STORAGE_TARGETS:
        return _pick(CLEAR_STORAGE)
    if v.has("license", "activation", "key") or v.has_key or v.path_kind:
        return _ask(CLEAR_STORAGE, DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE)
    return None


def _rule_status_question(v: _View) -> _Decision | None:
    if not v.has("status", "activated", "deactivated"):
        return None
    if v.bag & _ACTION_VERBS or v.matches(_IS_ONLINE_RES):
        return None
    if "check" in v.bag and v.has("online", "server", "internet", "local", "offline"):
        return None
    return _pick(LICENSE_STATUS)


def _rule_trouble(v: _View) -> _Decision | None:
    """"Why can't I activate?", "activation failed": the bot should diagnose."""
    if not v.bag & _TROUBLE or not v.licensing:
        return None
    if v.bag & (_ONLINE_WORDS | {"offline"}) or v.has_key or v.path_kind:
        return None
    return _pick(LICENSE_STATUS)


def _rule_create_request(v: _View) -> _Decision | None:
    creating = "create" in v.bag
    if "request" in v.bag and (creating or v.has("activate", "activation", "offline", "file")):
        return _pick(CREATE_ACTIVATION_REQUEST)
    if v.path_kind == "req" and creating:
        return _pick(CREATE_ACTIVATION_REQUEST)
    return None


def _rule_activate(v: _View) -> _Decision | None:
    if not v.has("activate", "activation"):
        return None
    offline = "offline" in v.bag or v.path_kind in ("lic", "req")
    online = bool(v.bag & _ONLINE_WORDS)
    if offline and not online:
        return _pick(ACTIVATE_OFFLINE)
    if online and not offline:
        return _pick(ACTIVATE_ONLINE)
    if offline and online:
        return _ask(ACTIVATE_ONLINE, ACTIVATE_OFFLINE)
    if v.has_key or "key" in v.bag:
        return _pick(ACTIVATE_ONLINE)
    if "file" in v.bag:
        return _pick(ACTIVATE_OFFLINE)
    return _ask(ACTIVATE_ONLINE, ACTIVATE_OFFLINE)


def _rule_enter_key(v: _View) -> _Decision | None:
    if "enter" in v.bag and ("key" in v.bag or v.has_key):
        return _pick(ACTIVATE_ONLINE)
    return None


def _rule_refresh(v: _View) -> _Decision | None:
    if "refresh" in v.bag:
        return _pick(REFRESH_OFFLINE)
    if "update" in v.bag and (v.has("license", "file") or v.path_kind == "lic"):
        return _pick(REFRESH_OFFLINE)
    return None


def _rule_is_online(v: _View) -> _Decision | None:
    if v.matches(_IS_ONLINE_RES):
        return _pick(IS_ONLINE)
    if v.bag & _NETWORK_WORDS and v.bag <= (_FILLER | _NETWORK_WORDS):
        return _pick(IS_ONLINE)
    return None


def _rule_check(v: _View) -> _Decision | None:
    if "check" not in v.bag:
        return None
    online = bool(v.bag & _ONLINE_WORDS)
    local = v.has("local", "offline") or v.path_kind is not None
    if online and not local:
        return _pick(CHECK_ONLINE)
    if local and not online:
        return _pick(LOCAL_CHECK)
    if online and local:
        return _ask(CHECK_ONLINE, LOCAL_CHECK)
    return _pick(LICENSE_STATUS)


def _rule_consume(v: _View) -> _Decision | None:
    if "consume" in v.bag:
        return _pick(CONSUME)
    if v.has("use", "spend", "record") and ("credit" in v.bag or v.has_number):
        return _pick(CONSUME)
    if "record" in v.bag and "use" in v.bag:
        return _pick(CONSUME)
    return None


def _rule_features(v: _View) -> _Decision | None:
    return _pick(LIST_FEATURES) if "feature" in v.bag else None


def _rule_reload(v: _View) -> _Decision | None:
    if "reload" in v.bag and v.path_kind is None:
        return _pick(RELOAD_LICENSE)
    if "load" in v.bag and v.path_kind is None and v.has("license", "disk", "file", "again"):
        return _pick(RELOAD_LICENSE)
    return None


def _rule_bare_path(v: _View) -> _Decision | None:
    if v.path_kind == "req":
        return _pick(CREATE_ACTIVATION_REQUEST)
    if v.path_kind is not None:
        return _ask(ACTIVATE_OFFLINE, REFRESH_OFFLINE)
    return None


def _rule_bare_key(v: _View) -> _Decision | None:
    return _pick(ACTIVATE_ONLINE) if v.has_key else None


def _rule_status(v: _View) -> _Decision | None:
    if v.has("license", "status", "activated", "deactivated", "credit", "key"):
        return _pick(LICENSE_STATUS)
    return None


def _rule_convert(v: _View) -> _Decision | None:
    return _pick(SKILL_CONVERT) if "convert" in v.bag else None


def _rule_wordcount(v: _View) -> _Decision | None:
    return _pick(SKILL_WORDCOUNT) if v.has("count") and v.has("word") else None


def _rule_help_fallback(v: _View) -> _Decision | None:
    if "help" in v.bag or (v.bag & _GREETINGS and v.bag <= (_FILLER | _GREETINGS)):
        return _pick(HELP)
    return None


_RULES: tuple[_Rule, ...] = (
    _rule_out_of_scope,
    _rule_help,
    _rule_quit,
    _rule_joke,
    _rule_dice,
    _rule_time,
    _rule_deactivate,
    _rule_clear,
    _rule_status_question,
    _rule_trouble,
    _rule_create_request,
    _rule_activate,
    _rule_enter_key,
    _rule_refresh,
    _rule_is_online,
    _rule_check,
    _rule_consume,
    _rule_features,
    _rule_reload,
    _rule_bare_path,
    _rule_bare_key,
    _rule_status,
    _rule_convert,
    _rule_wordcount,
    _rule_help_fallback,
)


def _classify(v: _View) -> _Decision:
    for rule in _RULES:
        decision = rule(v)
        if decision is not None:
            return decision
    return UNKNOWN, _UNKNOWN_SUGGESTION


def _offered(decision: _Decision) -> list[str]:
    """The intents a decision puts forward (its candidates, for clarify)."""
    name, candidates = decision
    if name == CLARIFY:
        return list(candidates)
    return [] if name == UNKNOWN else [name]


def _guarded(corrected: _View, raw: _View) -> _Decision:
    """Classify, refusing to act destructively on typo-correction alone.

    If the corrected reading puts a destructive intent forward (chosen, or
    offered in a clarify) and the uncorrected reading does not agree, the
    answer is a clarify offering both readings, the corrected one first.
    """
    decision = _classify(corrected)
    if corrected.words == raw.words or not set(_offered(decision)) & DESTRUCTIVE_INTENTS:
        return decision
    raw_decision = _classify(raw)
    if raw_decision == decision:
        return decision
    return _ask(*dict.fromkeys(_offered(decision) + _offered(raw_decision)))


# --------------------------------------------------------------------------
# Slot filling
# --------------------------------------------------------------------------
def _unquote(text: str) -> str:
    text = text.strip()
    if text and text[0] in _QUOTE_PAIRS:
        end = text.find(_QUOTE_PAIRS[text[0]], 1)
        if end > 1:
            return text[1:end]
    return text


def _match_wordcount(text: str) -> Intent | None:
    for regex in _WORDCOUNT_RES:
        match = regex.search(text)
        if match:
            body = _unquote(_WORDCOUNT_TAIL_RE.sub("", match.group("text"))).strip()
            return Intent(SKILL_WORDCOUNT, {"text": body} if body else {})
    return None


def _match_conversion(text: str) -> Intent | None:
    for index, regex in enumerate(_CONVERSION_RES):
        match = regex.search(text)
        if match is None:
            continue
        if index == len(_CONVERSION_RES) - 1 and _LICENSE_WORD_RE.search(text):
            continue
        groups = match.groupdict()
        slots: dict[str, object] = {}
        if groups.get("num"):
            value = _to_number(groups["num"])
            if value is not None:
                slots["value"] = value
        if groups.get("from"):
            slots["unit_from"] = groups["from"].strip()
        if groups.get("to"):
            slots["unit_to"] = groups["to"].strip()
        return Intent(SKILL_CONVERT, slots)
    return None


def _dice_number_role(words: Sequence[str], i: int) -> str | None:
    """Whether the number at ``words[i]`` is a dice "count" or "sides" (or neither)."""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    after = words[i + 2] if i + 2 < len(words) else ""
    if nxt in _SIDES_WORDS:
        return "sides"                                   # "6 sided", "8 sides"
    if nxt in ("dice", "die", "times") or _DICE_NOTATION_RE.fullmatch(nxt):
        return "count"                                   # "2 dice", "3 d6"
    if _int_token(nxt) is not None and after in _SIDES_WORDS:
        return "count"                                   # "2 6 sided dice"
    return None


def _dice_slots(words: Sequence[str]) -> dict[str, int]:
    slots: dict[str, int] = {}
    for i, word in enumerate(words):
        notation = _DICE_NOTATION_RE.fullmatch(word)     # "d20", "3d6"
        if notation:
            if notation.group(1) and int(notation.group(1)) > 0:
                slots.setdefault("count", int(notation.group(1)))
            slots.setdefault("sides", int(notation.group(2)))
            continue
        value = _int_token(word)
        role = _dice_number_role(words, i) if value is not None else None
        if role is not None and value is not None:
            slots.setdefault(role, value)
    return slots


def _first_count(words: Sequence[str]) -> dict[str, int]:
    for word in words:
        value = _int_token(word)
        if value is not None:
            return {"count": value}
    return {}


_PATH_KEY_INTENTS = frozenset(INTENT_NAMES) - {
    HELP, QUIT, SKILL_JOKE, SKILL_WORDCOUNT, SKILL_CONVERT, SKILL_DICE,
    SKILL_TIME, UNKNOWN,
}


def _slots_for(name: str, words: Sequence[str], extracted: _Extracted) -> dict[str, object]:
    slots: dict[str, object] = {}
    if name in _PATH_KEY_INTENTS:
        if extracted.path is not None:
            slots["path"] = extracted.path
        if extracted.key is not None:
            slots["key"] = extracted.key
    if name == CONSUME:
        slots.update(_first_count(words))
    elif name == SKILL_DICE:
        slots.update(_dice_slots(words))
    return slots


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------
def parse(text: str) -> Intent:
    """Parse one user utterance into an :class:`Intent`.  Never raises for a str."""
    if not isinstance(text, str):
        raise TypeError(f"parse() expects str, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        return Intent(UNKNOWN, candidates=_UNKNOWN_SUGGESTION)
    skill = _match_wordcount(stripped) or _match_conversion(stripped)
    if skill is not None:
        return skill
    extracted = _extract(stripped)
    tokens = _tokenise(extracted.rest)
    raw = _View.build(_canonical(tokens), extracted)
    corrected = _View.build(_corrected(tokens), extracted)
    name, candidates = _guarded(corrected, raw)
    return Intent(name, _slots_for(name, corrected.words, extracted), candidates)
