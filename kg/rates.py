"""Parse the text of an HTS rate of duty ("Free", "2.5%", "6.8% + 1.2¢/kg", ...) into its parts,
and split a column 1 special text ("Free (A+,AU,...,SG) 25% (KR)") into its rates and programs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

RATE_TYPES = ("Free", "AdValorem", "Specific", "Compound", "TextRate")

PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
# An amount in cents or dollars, then a unit ("/kg", "/doz.", "/1000", "/m2") or " each", then
# optionally words that say what the amount is measured on ("on drained weight"). No second
# amount, percent or plus sign may follow.
SPECIFIC = re.compile(r"(?:\d+(?:\.\d+)?¢|\$\d+(?:\.\d+)?)\s*(?:/|\beach\b)[^%+¢$]*")
# A parenthesised list of special program indicators ("(A+,AU,B,...)", "(KR)"). The schedule
# sometimes wraps or mistypes the list ("(E IL,JO)", "(.OM)", "(B,C,)"), so items are separated by
# commas or spaces and stray dots are ignored; any other parenthesis is part of the rate text.
PROGRAM_LIST = re.compile(r"\(([A-Z.+*][A-Z.+*, ]*)\)")
INDICATOR = re.compile(r"[A-Z]{1,2}[+*]?")
# An unclosed program list just before a closed one ("... 9919.04.67 (PA (PA)"): a typo, dropped.
UNCLOSED_LIST = re.compile(r"\s*\([A-Z.+*, ]*$")


@dataclass(frozen=True)
class Rate:
    """A parsed rate of duty.

    rate_type is one of RATE_TYPES. ad_valorem_percent is the ad valorem part in percent (0 for
    Free, None when there is none); specific_text the per-unit part as written (parts joined
    with " + "), or None; text the rate as given (whitespace normalised).
    """

    rate_type: str
    ad_valorem_percent: Decimal | None
    specific_text: str | None
    text: str


def parse_rate(text: str | None) -> Rate:
    """Parse a rate text; anything that is not Free, a percentage, per-unit amounts or a sum of
    them is a TextRate."""
    text = " ".join((text or "").split())
    if text == "Free":
        return Rate("Free", Decimal(0), None, text)
    percents: list[Decimal] = []
    specifics: list[str] = []
    for part in re.split(r"\s*\+\s*", text):
        if m := PERCENT.fullmatch(part):
            percents.append(Decimal(m.group(1)))
        elif SPECIFIC.fullmatch(part):
            specifics.append(part)
        else:
            return Rate("TextRate", None, None, text)
    if len(percents) > 1:
        return Rate("TextRate", None, None, text)
    percent = percents[0] if percents else None
    specific = " + ".join(specifics) if specifics else None
    if percent is not None and specific:
        return Rate("Compound", percent, specific, text)
    if percent is not None:
        return Rate("AdValorem", percent, None, text)
    return Rate("Specific", None, specific, text)


def decimal_text(value: Decimal) -> str:
    """Write a decimal for an xsd:decimal literal: no exponent, no trailing zeros, no trailing
    point ("25", "2.5", "0"), the form Oxigraph itself writes."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class SpecialPart:
    """One rate of a column 1 special text and the program indicators listed after it.

    rate_text is the rate as written ("Free", "25%", "See 9822.04.25"); programs the indicators
    in the order given, without repeats; text the part as one canonical string,
    "Free (A+,AU,B)", the same for every line that has this rate under these programs.
    """

    rate_text: str
    programs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The part as "rate (P1,P2,...)", or the rate alone if no program is listed."""
        if not self.programs:
            return self.rate_text
        return f"{self.rate_text} ({','.join(self.programs)})"


def program_list(inside: str) -> tuple[str, ...] | None:
    """Return the indicators of a parenthesised program list, or None if it is not one."""
    items = [item.strip(".") for item in re.split(r"[,\s]+", inside) if item.strip(".")]
    if not items or not all(INDICATOR.fullmatch(item) for item in items):
        return None
    return tuple(dict.fromkeys(items))


def parse_special(text: str | None) -> list[SpecialPart]:
    """Split a column 1 special text into its rates, each with the programs listed after it.

    "Free (A+,AU,B) 25% (KR)" gives [SpecialPart("Free", ("A+", "AU", "B")),
    SpecialPart("25%", ("KR",))]. Text after the last program list (or a text without any) is a
    part without programs; an empty text gives no parts.
    """
    text = " ".join((text or "").split())
    parts: list[SpecialPart] = []
    start = 0
    for match in PROGRAM_LIST.finditer(text):
        programs = program_list(match.group(1))
        if programs is None:
            continue
        rate_text = UNCLOSED_LIST.sub("", text[start : match.start()]).strip()
        start = match.end()
        if rate_text:
            parts.append(SpecialPart(rate_text, programs))
    rest = text[start:].strip()
    if rest:
        parts.append(SpecialPart(rest, ()))
    return parts
