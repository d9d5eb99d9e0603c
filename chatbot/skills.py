"""The chatbot's own skills: small pure functions, each unlocked by one license feature.

A skill maps the slots the parser found (``chatbot.intents``) to a Markdown answer. Skills
know nothing about licensing: the bot checks the license *before* a skill runs and records the
use *after* it succeeded, so a mistyped request ("convert 5 km to kg") never costs a credit.
Everything a skill needs from outside (randomness, the current time) comes in a
:class:`SkillContext`, which keeps them deterministic under test.

Bad input raises :class:`SkillInputError` whose message is safe Markdown and says what to type.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from types import MappingProxyType

from .explain import md_code
from .intents import SKILL_CONVERT, SKILL_DICE, SKILL_JOKE, SKILL_TIME, SKILL_WORDCOUNT

__all__ = [
    "Skill",
    "SkillContext",
    "SkillInputError",
    "SKILLS",
    "JOKES",
    "MAX_DICE",
    "MIN_SIDES",
    "MAX_SIDES",
    "Unit",
    "find_unit",
    "convert",
    "tell_joke",
    "count_words",
    "convert_units",
    "roll_dice",
    "tell_time",
]

Slots = Mapping[str, object]


class SkillInputError(ValueError):
    """The request cannot be carried out as typed; ``message`` (Markdown) says what to type instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SkillContext:
    """What a skill may use from the outside world."""

    rng: random.Random
    now: datetime  # aware, UTC: read from the license manager's configured clock
    local_tz: tzinfo | None = None  # None: this computer's time zone


@dataclass(frozen=True)
class Skill:
    """A skill: the intent that asks for it, the license feature it needs, and what it does."""

    intent: str
    feature: str
    title: str  # for people: "tell a joke"
    example: str  # a command that runs it, e.g. "tell me a joke"
    run: Callable[[Slots, SkillContext], str]


# -- jokes ---------------------------------------------------------------------------------------

JOKES: tuple[str, ...] = (
    "There are 10 kinds of people: those who understand binary and those who don't.",
    "A SQL query walks into a bar, goes up to two tables and asks: \"Can I join you?\"",
    "Why do programmers prefer dark mode? Because light attracts bugs.",
    "I would tell you a UDP joke, but you might not get it.",
    "There are two hard things in computer science: cache invalidation, naming things, and off-by-one errors.",
    ("A programmer's partner says: \"Buy a loaf of bread; if they have eggs, buy a dozen.\" "
     "They come home with twelve loaves."),
    "How many programmers does it take to change a light bulb? None, that's a hardware problem.",
    "Why did the developer go broke? Because they used up all their cache.",
    "Knock knock. Race condition. Who's there?",
    "It works on my machine. Then we'll ship your machine. And that is how containers were born.",
    "Debugging: being the detective in a crime movie where you are also the murderer.",
    "Why was the JavaScript developer sad? Because they didn't Node how to Express themselves.",
)


def tell_joke(slots: Slots, ctx: SkillContext) -> str:
    """One joke from a fixed list, picked with the injected random generator."""
    return ctx.rng.choice(JOKES)


# -- word count ----------------------------------------------------------------------------------


def count_words(slots: Slots, ctx: SkillContext) -> str:
    text = slots.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SkillInputError("What should I count? Say for example `count words in the quick brown fox`.")
    words = len(text.split())
    lines = len(text.splitlines()) or 1
    return (f"**{words}** {_plural(words, 'word')}, **{len(text)}** {_plural(len(text), 'character')}, "
            f"**{lines}** {_plural(lines, 'line')}.")


# -- unit conversion -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit as an affine map to its dimension's base unit: ``base = value * scale + offset``.

    Only temperatures have an offset; that is what makes 0 °C 32 °F rather than 0 °F.
    """

    name: str  # canonical, for the answer: "kilometres"
    symbol: str  # "km"
    dimension: str  # "length", "mass", ...
    scale: float
    offset: float = 0.0

    def label(self, value: float) -> str:
        """The name to print after ``value``: "1 mile", "2 miles", "1 degree Celsius"."""
        if abs(value) != 1:
            return self.name
        words = self.name.split()
        index = 0 if words[0] == "degrees" else words.index("per") - 1 if "per" in words else len(words) - 1
        word = words[index]
        words[index] = _SINGULAR_WORDS.get(word, word.removesuffix("s"))
        return " ".join(words)

    def to_base(self, value: float) -> float:
        return value * self.scale + self.offset

    def from_base(self, value: float) -> float:
        return (value - self.offset) / self.scale


# (dimension, symbol, canonical name, scale to the base unit, extra spellings); offsets below.
_UNIT_TABLE: tuple[tuple[str, str, str, float, str], ...] = (
    ("length", "mm", "millimetres", 0.001, "millimeter millimetre"),
    ("length", "cm", "centimetres", 0.01, "centimeter centimetre"),
    ("length", "m", "metres", 1.0, "meter metre meters"),
    ("length", "km", "kilometres", 1000.0, "kilometer kilometre kms"),
    ("length", "in", "inches", 0.0254, "inch"),
    ("length", "ft", "feet", 0.3048, "foot"),
    ("length", "yd", "yards", 0.9144, "yard yds"),
    ("length", "mi", "miles", 1609.344, "mile"),
    ("length", "nmi", "nautical miles", 1852.0, "nautical-mile nauticalmile"),
    ("mass", "mg", "milligrams", 1e-6, "milligram milligramme"),
    ("mass", "g", "grams", 0.001, "gram gramme gr"),
    ("mass", "kg", "kilograms", 1.0, "kilogram kilogramme kilo kilos kgs"),
    ("mass", "t", "tonnes", 1000.0, "tonne metric-ton ton tons"),
    ("mass", "oz", "ounces", 0.028349523125, "ounce"),
    ("mass", "lb", "pounds", 0.45359237, "pound lbs"),
    ("mass", "st", "stone", 6.35029318, "stones"),
    ("temperature", "°C", "degrees Celsius", 1.0, "c celsius centigrade degc °c"),
    ("temperature", "°F", "degrees Fahrenheit", 5 / 9, "f fahrenheit degf °f"),
    ("temperature", "K", "kelvin", 1.0, "k kelvin kelvins"),
    ("volume", "ml", "millilitres", 0.001, "milliliter millilitre"),
    ("volume", "l", "litres", 1.0, "liter litre"),
    ("volume", "m³", "cubic metres", 1000.0, "m3 cubic-meter cubic-metre"),
    ("volume", "gal", "US gallons", 3.785411784, "gallon gallons us-gallon"),
    ("volume", "qt", "US quarts", 0.946352946, "quart"),
    ("volume", "pt", "US pints", 0.473176473, "pint"),
    ("volume", "cup", "US cups", 0.2365882365, "cups"),
    ("volume", "fl oz", "US fluid ounces", 0.0295735295625, "floz fluid-ounce fl.oz"),
    ("volume", "tbsp", "tablespoons", 0.01478676478125, "tablespoon"),
    ("volume", "tsp", "teaspoons", 0.00492892159375, "teaspoon"),
    ("speed", "m/s", "metres per second", 1.0, "mps meters-per-second metres-per-second"),
    ("speed", "km/h", "kilometres per hour", 1 / 3.6, "kmh kph kmph kilometers-per-hour kilometres-per-hour"),
    ("speed", "mph", "miles per hour", 0.44704, "miles-per-hour mi/h"),
    ("speed", "kn", "knots", 0.514444, "knot knots kt kts"),
    ("speed", "ft/s", "feet per second", 0.3048, "fps feet-per-second"),
    ("time", "s", "seconds", 1.0, "sec secs second"),
    ("time", "min", "minutes", 60.0, "mins minute"),
    ("time", "h", "hours", 3600.0, "hr hrs hour"),
    ("time", "d", "days", 86400.0, "day"),
    ("time", "wk", "weeks", 604800.0, "week weeks"),
    ("area", "m²", "square metres", 1.0, "m2 sqm square-meter square-metre sq-m"),
    ("area", "km²", "square kilometres", 1e6, "km2 sqkm square-kilometer square-kilometre sq-km"),
    ("area", "ft²", "square feet", 0.09290304, "ft2 sqft square-foot square-feet sq-ft"),
    ("area", "ha", "hectares", 10000.0, "hectare"),
    ("area", "ac", "acres", 4046.8564224, "acre"),
    ("data", "B", "bytes", 1.0, "b byte"),
    ("data", "kB", "kilobytes", 1e3, "kb kilobyte"),
    ("data", "MB", "megabytes", 1e6, "mb megabyte"),
    ("data", "GB", "gigabytes", 1e9, "gb gigabyte"),
    ("data", "TB", "terabytes", 1e12, "tb terabyte"),
)
# Kelvin is the base temperature: K = °C + 273.15 = (°F − 32) × 5/9 + 273.15.
_OFFSETS = {"°C": 273.15, "°F": 273.15 - 32 * 5 / 9}
_SINGULAR_WORDS = {"feet": "foot", "inches": "inch"}
_BASE_NAMES = {"length": "metres", "mass": "kilograms", "temperature": "kelvin", "volume": "litres",
               "speed": "metres per second", "time": "seconds", "area": "square metres", "data": "bytes"}


def _unit_index() -> Mapping[str, Unit]:
    index: dict[str, Unit] = {}
    for dimension, symbol, name, scale, spellings in _UNIT_TABLE:
        unit = Unit(name, symbol, dimension, scale, _OFFSETS.get(symbol, 0.0))
        for spelling in (symbol, name, *spellings.split()):
            index.setdefault(_normalise_unit(spelling), unit)
    return MappingProxyType(index)


def _normalise_unit(text: str) -> str:
    """Case, a leading "degrees", ²/³ versus 2/3 and a final dot do not matter; words join with "-"."""
    text = text.strip().rstrip(".").replace("º", "°")
    lowered = text.lower()
    for prefix in ("degrees ", "degree ", "deg "):
        lowered = lowered.removeprefix(prefix)
    return "-".join(lowered.replace("²", "2").replace("³", "3").split())


_UNITS = _unit_index()


def find_unit(typed: str) -> Unit | None:
    """The unit a person typed ("km", "Kilometres", "miles", "°F", "degrees celsius"), or None."""
    key = _normalise_unit(typed)
    unit = _UNITS.get(key)
    if unit is None and len(key) > 3 and key.endswith("s"):
        unit = _UNITS.get(key[:-1])  # a plural the table does not spell out
    return unit


def convert(value: float, source: Unit, target: Unit) -> float:
    """``value`` in ``source`` expressed in ``target`` (both of the same dimension)."""
    if source.dimension != target.dimension:
        raise SkillInputError(f"I cannot convert {source.dimension} ({source.name}) into "
                              f"{target.dimension} ({target.name}).")
    kelvin_or_base = source.to_base(value)
    if source.dimension == "temperature" and kelvin_or_base < -1e-9:
        raise SkillInputError(f"{_number(value)} {source.symbol} is below absolute zero, so it is not a temperature.")
    return target.from_base(kelvin_or_base)


def convert_units(slots: Slots, ctx: SkillContext) -> str:
    value, unit_from, unit_to = slots.get("value"), slots.get("unit_from"), slots.get("unit_to")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not isinstance(unit_from, str) \
            or not isinstance(unit_to, str):
        raise SkillInputError("Tell me a number and two units, for example `convert 5 km to miles` "
                              "or `convert 100 F to C`.")
    if not math.isfinite(value):
        raise SkillInputError("That number is too large to convert.")
    source, target = find_unit(unit_from), find_unit(unit_to)
    unknown = [typed for typed, unit in ((unit_from, source), (unit_to, target)) if unit is None]
    if unknown or source is None or target is None:
        listed = " and ".join(md_code(typed) for typed in unknown)
        raise SkillInputError(f"I do not know the unit {listed}. I convert length, mass, temperature, volume, "
                              "speed, time, area and data sizes (say `help convert` for the units).")
    result = convert(float(value), source, target)
    return f"{_number(value)} {source.label(value)} = **{_number(result)} {target.label(result)}**"


def _number(value: float) -> str:
    """Up to six significant digits, no exponent for everyday sizes, no trailing zeros."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 15 or magnitude < -6:
        return f"{value:.6g}"
    digits = max(0, 5 - magnitude)
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit_help() -> str:
    """Markdown listing every unit by dimension (for the help topic)."""
    by_dimension: dict[str, list[str]] = {}
    for dimension, symbol, _name, _scale, _spellings in _UNIT_TABLE:
        by_dimension.setdefault(dimension, []).append(f"`{symbol}`")
    return "\n".join(f"- {dimension} (base: {_BASE_NAMES[dimension]}): {', '.join(symbols)}"
                     for dimension, symbols in by_dimension.items())


# -- dice ----------------------------------------------------------------------------------------

MAX_DICE = 100
MIN_SIDES = 2
MAX_SIDES = 1000


def roll_dice(slots: Slots, ctx: SkillContext) -> str:
    count, sides = slots.get("count", 1), slots.get("sides", 6)
    if type(count) is not int or not 1 <= count <= MAX_DICE:
        raise SkillInputError(f"I can roll from 1 to {MAX_DICE} dice at once, not {md_code(str(count))}.")
    if type(sides) is not int or not MIN_SIDES <= sides <= MAX_SIDES:
        raise SkillInputError(f"Dice can have {MIN_SIDES} to {MAX_SIDES} sides, not {md_code(str(sides))}.")
    rolls = [ctx.rng.randint(1, sides) for _ in range(count)]
    if count == 1:
        return f"🎲 d{sides}: **{rolls[0]}**"
    return f"🎲 {count}d{sides}: {', '.join(map(str, rolls))} — total **{sum(rolls)}**"


# -- time ----------------------------------------------------------------------------------------


def tell_time(slots: Slots, ctx: SkillContext) -> str:
    local = ctx.now.astimezone(ctx.local_tz)
    return (f"It is **{ctx.now:%H:%M}** UTC ({ctx.now:%A %d %B %Y}); "
            f"local time here is **{local:%H:%M}** {local.tzname() or ''} ({local:%A %d %B %Y}).")


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


#: intent name → skill; the feature codes match the demo product (licensing.issuing.demo).
SKILLS: Mapping[str, Skill] = MappingProxyType({skill.intent: skill for skill in (
    Skill(SKILL_JOKE, "jokes", "tell a joke", "tell me a joke", tell_joke),
    Skill(SKILL_WORDCOUNT, "wordcount", "count words", "count words in hello brave new world", count_words),
    Skill(SKILL_CONVERT, "convert", "convert units", "convert 5 km to miles", convert_units),
    Skill(SKILL_DICE, "dice", "roll dice", "roll 2d6", roll_dice),
    Skill(SKILL_TIME, "time", "tell the time", "what time is it?", tell_time),
)})
