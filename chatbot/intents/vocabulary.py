"""The words the rules know: concepts and their surface forms, common words never corrected, number
words, unit names, contractions, and the concept groups the rules test (built once at import)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType


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
    "status": "status valid invalid unlicensed unlicenced expire expires expired expiring expiry "
              "expiration edition",
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
    "device": "device machine computer laptop pc pcs notebook workstation",
    "connected": "connected connection connectivity reachable unreachable "
                 "disconnected ping pinging",
    "time": "time clock",
    "move": "move moves moving moved transfer transfers transferring transferred migrate migrates "
            "migrating migrated",
    # floating licenses: a seat (a lease) from the floating server at the site
    "seat": "seat seats lease leases",
    "floating": "floating float",
    "borrow": "borrow borrows borrowing borrowed",
    "return": "return returns returning returned",
    "oos": "buy buying purchase purchasing price prices pricing "
           "cost costs costing pay paying payment payments refund refunds "
           "cancel cancellation "
           "subscribe weather forecast discount discounts coupon coupons invoice "
           "invoices billing sell selling cheaper cheapest expensive upgrade "
           "upgrading",
    # renewing a license or subscription is the vendor's business; renewing a seat is the lease's heartbeat
    "renew": "renew renews renewal renewing renewed",
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
score storm stork stove stole roles wives wines rest forest forged
compute computed commuter loyal shortage playing praying pavement smell
smelling swell swelling settling brought billion empire statue states
statues funky costume consumer option optional mode modes model models
created creates creating generated generator removed prepared saves menus
networks machines connections requested stores recorder recorded fails
exported unreadable interactions intercept dies
dat lad tim ids types kinds
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
    "whats": ("what", "is"), "wats": ("what", "is"), "wat": ("what",), "im": ("i", "am"), "hows": ("how", "is"),
    "isnt": ("is", "not"), "arent": ("are", "not"), "dont": ("do", "not"),
    "doesnt": ("does", "not"), "cant": ("can", "not"), "cannot": ("can", "not"),
    "wont": ("will", "not"), "thats": ("that", "is"), "whos": ("who", "is"),
    "wheres": ("where", "is"), "whens": ("when", "is"), "youre": ("you", "are"),
    "heres": ("here", "is"), "theres": ("there", "is"), "its": ("it", "is"),
    "ive": ("i", "have"), "lets": ("let", "us"), "todays": ("today",),
    "u": ("you",), "ur": ("your",), "pls": ("please",), "plz": ("please",),
    "thx": ("thanks",), "wanna": ("want", "to"), "whatre": ("what", "are"),
    "thru": ("through",), "r": ("are",), "didnt": ("did", "not"), "aint": ("is", "not"), "wasnt": ("was", "not"),
})


_LICENSING = frozenset({
    "license", "activate", "activation", "activated", "deactivate", "deactivated",
    "offline", "online", "request", "refresh", "status", "feature",
    "consume", "credit", "server", "reload", "key", "storage", "seat", "floating", "borrow",
})
_ACTION_VERBS = frozenset({
    "activate", "deactivate", "refresh", "clear", "consume", "create", "reload",
    "update", "forget", "release",
})
_RELEASE_CONTEXT = frozenset({
    "license", "device", "activation", "offline", "online", "key",
})
_STORAGE_TARGETS = frozenset({"storage", "local", "all", "factory"})
#: the floating vocabulary (rules._rule_floating): taking a seat, and starting or stopping the floating server
_SEAT_TAKE = frozenset(_words("get take grab need want acquire claim obtain reserve request checkout give assign"))
_SERVER_START = frozenset(_words("start launch run boot restart spin fire"))
_SERVER_STOP = frozenset(_words("stop shut shutdown kill halt"))
_ONLINE_WORDS = frozenset({"online", "internet", "server"})
_SIDES_WORDS = frozenset({"sided", "sides", "side", "faced", "faces"})
_FILLER = frozenset(_words("""
a an the me i you we us please can could would will do does need want some
any just so ok okay now hi hello hey there bot thanks thank again with this
my it is are am be get give show tell let
"""))
#: people a license might be handed to: a vendor's matter, not this device's
_PEOPLE = frozenset(_words("""
wife husband brother sister friend friends colleague colleagues son daughter mom mum dad mother father
someone somebody person coworker partner boss kid kids family cousin neighbour neighbor
"""))
_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "morning", "yo", "greetings"})
#: words that questions about the license and the knowledge hinge on ("what tyep of license", "whn does it
#: expire", "the respons file"): a typo of one is corrected like a typo of a command word
_QUESTION_WORDS = frozenset(_words("""
what when where which have does kind type many much long left remaining until happens happen happened
response guard portal hardware signature grace period tamper tampered
"""))
#: the names of this bot's features as one word: kept whole, never split or corrected
_FEATURE_NAMES = frozenset(_words("wordcount jokes joke dice convert time"))
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
#: who may be online or reach the server: "can the app reach the server?", "is this computer online?"
_ONLINE_SUBJECT = (r"(?:i|we|you|it|this|(?:the|this|my|our) (?:app|application|program|bot|chatbot|sdk|device|"
                  r"computer|machine|pc|laptop|system))")
_IS_ONLINE_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    rf" (?:am|are|is) {_ONLINE_SUBJECT} (?:currently |still |now |even |really )?(?:online|offline|connected) ",
    r" connected ",
    r" if (?:i am|we are|it is|the app is|this is|the server is) (?:online|offline|up|down) ",
    r" (?:server|internet) (?:is |are )?(?:up|down|reachable|available|online|"
    r"running|alive|working|ok|okay|there) ",
    r" is (?:the |my )?(?:license |licensing )?(?:server|internet) ",
    rf" can {_ONLINE_SUBJECT} (?:reach|contact|connect|see|talk|get)(?: to| with)? (?:the )?"
    r"(?:license |licensing )?(?:server|internet)",
    rf" (?:do|does) {_ONLINE_SUBJECT} have (?:any )?(?:internet|a connection) ",
    r" (?:online|server|internet) status ",
    r" status of (?:the )?(?:license )?(?:server|internet|connection) ",
))
_OOS_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r" how much (?:does|do|is|for|would|will|are|money|to) ",
    r" (?:delete|close|cancel|create|open|make|remove|sign up for|register|log ?in to|login to) (?:my |an |a |the )?"
    r"(?:user )?accounts? ",
    r" my accounts? ",
    # an account's password is the vendor's business; a password in a request file is not
    r" (?:reset|change|forgot|forgotten|lost|recover|update|new) (?:my |the |a |an )?(?:account |user )?passwords? ",
    r" passwords? (?:reset|recovery) ",
))


def _pattern_words(patterns: Iterable[re.Pattern[str]]) -> frozenset[str]:
    """Literal words the rule regexes look for: these are never corrected."""
    return frozenset(w for p in patterns for w in re.findall(r"[a-z]{2,}", p.pattern))


