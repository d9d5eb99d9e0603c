"""The chatbot's skills as pure functions: conversions, word count, dice bounds, time."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from chatbot.intents import parse
from chatbot.skills import (
    JOKES,
    MAX_DICE,
    MAX_SIDES,
    SKILLS,
    SkillContext,
    SkillInputError,
    convert_units,
    count_words,
    find_unit,
    roll_dice,
    tell_joke,
    tell_time,
)

NOW = datetime(2026, 6, 1, 12, 30, tzinfo=timezone.utc)


def ctx(seed: int = 7, tz: timezone | None = timezone.utc) -> SkillContext:
    return SkillContext(random.Random(seed), NOW, tz)


def converted(value: float, unit_from: str, unit_to: str) -> str:
    return convert_units({"value": value, "unit_from": unit_from, "unit_to": unit_to}, ctx())


@pytest.mark.parametrize(("value", "unit_from", "unit_to", "expected"), [
    (5, "km", "miles", "**3.10686 miles**"),
    (1, "mile", "km", "1 mile = **1.60934 kilometres**"),
    (0.3048, "m", "ft", "**1 foot**"),
    (1, "m/s", "ft/s", "1 metre per second = **3.28084 feet per second**"),
    (1, "degC", "K", "1 degree Celsius = **274.15 kelvin**"),
    (3, "feet", "meters", "**0.9144 metres**"),
    (12, "inches", "cm", "**30.48 centimetres**"),
    (1000, "mm", "m", "**1 metre**"),
    (2, "kg", "lbs", "**4.40925 pounds**"),
    (16, "oz", "lb", "**1 pound**"),
    (5, "stone", "kg", "**31.7515 kilograms**"),
    (1, "tonne", "kg", "**1,000 kilograms**"),
    (100, "C", "F", "**212 degrees Fahrenheit**"),       # offsets, not just scales
    (32, "fahrenheit", "celsius", "**0 degrees Celsius**"),
    (-40, "°F", "°C", "**-40 degrees Celsius**"),
    (0, "K", "C", "**-273.15 degrees Celsius**"),
    (25, "degrees celsius", "kelvin", "**298.15 kelvin**"),
    (1, "gallon", "liters", "**3.78541 litres**"),
    (10, "cups", "ml", "**2,365.88 millilitres**"),
    (100, "km/h", "mph", "**62.1371 miles per hour**"),
    (10, "m/s", "kph", "**36 kilometres per hour**"),
    (90, "minutes", "hours", "**1.5 hours**"),
    (1, "hectare", "acres", "**2.47105 acres**"),
    (1.5, "GB", "MB", "**1,500 megabytes**"),
    (0, "m", "ft", "**0 feet**"),
])
def test_conversions(value: float, unit_from: str, unit_to: str, expected: str) -> None:
    assert expected in converted(value, unit_from, unit_to)


@pytest.mark.parametrize(("typed", "symbol"), [
    ("Kilometres", "km"), ("KM", "km"), ("kilometers", "km"), ("metres", "m"), ("Miles", "mi"),
    ("lbs", "lb"), ("pounds", "lb"), ("°c", "°C"), ("Fahrenheit", "°F"), ("liters", "l"), ("litres", "l"),
    ("tablespoons", "tbsp"), ("knots", "kn"), ("km/h", "km/h"), ("miles per hour", "mph"), ("hrs", "h"),
])
def test_units_as_typed_with_plurals_abbreviations_and_case(typed: str, symbol: str) -> None:
    unit = find_unit(typed)
    assert unit is not None and unit.symbol == symbol


@pytest.mark.parametrize(("value", "unit_from", "unit_to", "message"), [
    (5, "km", "kg", "cannot convert length"),
    (3, "furlongs", "m", "do not know the unit `furlongs`"),
    (3, "m", "parsecs", "do not know the unit `parsecs`"),
    (-500, "C", "K", "below absolute zero"),
    (-1, "K", "C", "below absolute zero"),
])
def test_conversion_errors_say_what_is_wrong(value: float, unit_from: str, unit_to: str, message: str) -> None:
    with pytest.raises(SkillInputError, match=message.replace("`", ".")):
        converted(value, unit_from, unit_to)


def test_a_conversion_with_missing_parts_says_what_to_type() -> None:
    with pytest.raises(SkillInputError, match="convert 5 km to miles"):
        convert_units(dict(parse("convert km to miles").slots), ctx())


def test_parsed_conversions_run_end_to_end() -> None:
    assert "**0.9144 metres**" in convert_units(dict(parse("convert 3 feet to meters").slots), ctx())


def test_unknown_unit_is_echoed_as_code_not_markdown() -> None:
    with pytest.raises(SkillInputError) as caught:
        converted(1, "**x**", "m")
    assert "`**x**`" in caught.value.message


def test_word_count() -> None:
    assert count_words({"text": "the quick  brown fox"}, ctx()) == "**4** words, **20** characters, **1** line."
    assert count_words({"text": "one\ntwo three"}, ctx()).startswith("**3** words, **13** characters, **2** lines")
    assert count_words({"text": "word"}, ctx()) == "**1** word, **4** characters, **1** line."
    for empty in ({}, {"text": "   "}):
        with pytest.raises(SkillInputError, match="What should I count"):
            count_words(empty, ctx())


def test_dice_are_seeded_and_bounded() -> None:
    assert roll_dice({"count": 3, "sides": 6}, ctx(1)) == roll_dice({"count": 3, "sides": 6}, ctx(1))
    rolls = roll_dice({"count": MAX_DICE, "sides": MAX_SIDES}, ctx(2))
    values = [int(v) for v in rolls.split(": ", 1)[1].split(" — ")[0].split(", ")]
    assert len(values) == MAX_DICE and all(1 <= v <= MAX_SIDES for v in values)
    assert f"total **{sum(values)}**" in rolls
    assert roll_dice({}, ctx(3)).startswith("🎲 d6: **")  # one six-sided die by default
    single = int(roll_dice({"sides": 2}, ctx(4)).split("**")[1])
    assert single in (1, 2)


@pytest.mark.parametrize(("slots", "message"), [
    ({"count": 0}, "1 to 100 dice"), ({"count": 101}, "1 to 100 dice"), ({"sides": 1}, "2 to 1000 sides"),
    ({"sides": 1001}, "2 to 1000 sides"), ({"count": 2, "sides": 0}, "2 to 1000 sides"),
])
def test_dice_out_of_bounds_are_refused(slots: dict[str, int], message: str) -> None:
    with pytest.raises(SkillInputError, match=message):
        roll_dice(slots, ctx())


def test_time_uses_the_given_clock_and_zone() -> None:
    text = tell_time({}, SkillContext(random.Random(), NOW, timezone(timedelta(hours=2), "CEST")))
    assert "**12:30** UTC" in text and "**14:30** CEST" in text and "Monday 01 June 2026" in text


def test_jokes_come_from_the_list_and_follow_the_rng() -> None:
    assert tell_joke({}, ctx(5)) in JOKES
    assert [tell_joke({}, ctx(5)) for _ in range(3)] == [tell_joke({}, ctx(5))] * 3
    assert len({tell_joke({}, ctx(seed)) for seed in range(40)}) > 3


def test_every_skill_has_a_demo_feature_and_its_example_parses_to_it() -> None:
    from licensing.issuing.demo import DEMO_FEATURES

    assert sorted(skill.feature for skill in SKILLS.values()) == sorted(DEMO_FEATURES)
    for intent, skill in SKILLS.items():
        assert parse(skill.example).name == intent
