"""Tests for kg.rates: parse_rate and parse_special."""

import collections
from decimal import Decimal
from pathlib import Path

import pytest

from kg.hts_tables import read_lines
from kg.rates import INDICATOR, SpecialPart, decimal_text, parse_rate, parse_special

HTS_DIR = Path(__file__).resolve().parents[1] / "data" / "hts"


@pytest.mark.parametrize(
    "text, rate_type, percent, specific",
    [
        ("Free", "Free", Decimal(0), None),
        ("2.5%", "AdValorem", Decimal("2.5"), None),
        ("25%", "AdValorem", Decimal(25), None),
        ("1¢/kg", "Specific", None, "1¢/kg"),
        ("$1.055/kg", "Specific", None, "$1.055/kg"),
        ("0.9¢ each", "Specific", None, "0.9¢ each"),
        ("10¢/1,000 pins + 3.5%", "Compound", Decimal("3.5"), "10¢/1,000 pins"),
        ("6.8% + 1.2¢/kg", "Compound", Decimal("6.8"), "1.2¢/kg"),
        ("$1.35/doz. + 6%", "Compound", Decimal(6), "$1.35/doz."),
        ("$1.035/kg +13.6%", "Compound", Decimal("13.6"), "$1.035/kg"),
        ("15¢ each + 2.3% + 0.8¢/jewel", "Compound", Decimal("2.3"), "15¢ each + 0.8¢/jewel"),
        ("3.7¢/kg on drained weight", "Specific", None, "3.7¢/kg on drained weight"),
        ("$1.16 each + 6% on the case", "TextRate", None, None),
        ("1.5 percent of the fair retail value", "TextRate", None, None),
        ("The duty provided in the applicable subheading + 25%", "TextRate", None, None),
        (
            "1.4606¢/kg less 0.020668¢/kg for each degree under 100 degrees",
            "TextRate",
            None,
            None,
        ),
        ("", "TextRate", None, None),
    ],
)
def test_parse_rate_examples(text, rate_type, percent, specific):
    rate = parse_rate(text)
    assert (rate.rate_type, rate.ad_valorem_percent, rate.specific_text) == (
        rate_type,
        percent,
        specific,
    )


def test_parse_rate_normalises_whitespace():
    assert parse_rate("  6.8%  +\n1.2¢/kg ").text == "6.8% + 1.2¢/kg"


def test_decimal_text_is_canonical():
    assert [decimal_text(Decimal(x)) for x in ("25", "2.50", "0", "100", "0.25")] == [
        "25",
        "2.5",
        "0",
        "100",
        "0.25",
    ]


def test_every_general_text_of_2026_rev_10_parses():
    texts = {ln.general for ln in read_lines(HTS_DIR) if ln.general and not ln.until_rev}
    counts = collections.Counter(parse_rate(t).rate_type for t in texts)
    assert len(texts) == 830
    assert counts == {
        "Specific": 251,
        "AdValorem": 216,
        "Compound": 197,
        "TextRate": 165,
        "Free": 1,
    }


def test_text_rates_of_chapters_1_to_97_are_really_words():
    texts = {
        ln.general
        for ln in read_lines(HTS_DIR)
        if ln.general and not ln.until_rev and ln.digits < "98"
    }
    words = [t for t in texts if parse_rate(t).rate_type == "TextRate"]
    assert len(words) == 100
    # each is a rate on part of the goods ("% on the case"), a reference to a note or another
    # rate, a sliding sugar rate or a capped watch-movement rate
    assert all(
        " on " in t or t.startswith(("See ", "The rate")) or " less " in t or " exceed " in t
        for t in words
    )


def test_parsed_parts_rebuild_the_text():
    texts = {ln.general for ln in read_lines(HTS_DIR) if ln.general}
    for text in texts:
        rate = parse_rate(text)
        if rate.rate_type == "Specific":
            assert rate.specific_text == text
        if rate.rate_type == "AdValorem":
            assert text == f"{rate.ad_valorem_percent}%"


@pytest.mark.parametrize(
    "text, parts",
    [
        (
            "Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,KR,MA,OM, P,PA,PE,S,SG)",
            ["Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)"],
        ),
        (
            "Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,MA,OM,P,PA,PE,S,SG)25% (KR)",
            ["Free (A+,AU,B,BH,CL,CO,D,E,IL,JO,MA,OM,P,PA,PE,S,SG)", "25% (KR)"],
        ),
        (
            "Free (BH,CL,CO,JO,MA,OM,P,PE,S,SG) 1.7% (KR) See 9822.04.01-9822.04.03 (AU)",
            ["Free (BH,CL,CO,JO,MA,OM,P,PE,S,SG)", "1.7% (KR)", "See 9822.04.01-9822.04.03 (AU)"],
        ),
        # typos of the schedule: a space for a comma, a stray dot, a trailing comma
        ("Free (A*,AU,BH,E IL,JO)", ["Free (A*,AU,BH,E,IL,JO)"]),
        ("Free (AU,BH,.OM,P) ", ["Free (AU,BH,OM,P)"]),
        (
            "A duty upon the value of the repairs (see U.S. note 3 of this subchapter) (B,C,)",
            ["A duty upon the value of the repairs (see U.S. note 3 of this subchapter) (B,C)"],
        ),
        ("Free(A,AU,BH)", ["Free (A,AU,BH)"]),
        # an unclosed list doubled by a closed one: the typo is dropped
        ("See 9919.04.50, 9919.04.57 (PA (PA)", ["See 9919.04.50, 9919.04.57 (PA)"]),
        # no program list: the whole text is one part without programs
        ("Free, under the terms of U.S. note 1(b) to this subchapter",
         ["Free, under the terms of U.S. note 1(b) to this subchapter"]),
        ("", []),
    ],
)
def test_parse_special_examples(text, parts):
    assert [p.text for p in parse_special(text)] == parts


def test_parse_special_parts():
    parts = parse_special("Free (A+,AU,KR) 25% (KR)")
    assert parts == [SpecialPart("Free", ("A+", "AU", "KR")), SpecialPart("25%", ("KR",))]
    assert parse_rate(parts[1].rate_text).ad_valorem_percent == Decimal(25)
    assert parse_special("Free (S,S)") == [SpecialPart("Free", ("S",))]


def test_every_special_text_splits_into_rates_and_indicators():
    texts = {ln.special for ln in read_lines(HTS_DIR) if ln.special}
    parts = [part for text in texts for part in parse_special(text)]
    assert parts and all(part.rate_text for part in parts)
    assert all(INDICATOR.fullmatch(code) for part in parts for code in part.programs)
    # outside chapter 98 and 99, every rate is listed with at least one program
    lines_1_97 = {ln.special for ln in read_lines(HTS_DIR) if ln.special and ln.digits < "98"}
    assert all(part.programs for text in lines_1_97 for part in parse_special(text))
    rates = collections.Counter(
        parse_rate(part.rate_text).rate_type for text in lines_1_97 for part in parse_special(text)
    )
    assert rates["Free"] > rates["AdValorem"] > 0 and rates["Specific"] > 0
