"""Parse the text of an HTS rate of duty ("Free", "2.5%", "6.8% + 1.2¢/kg", ...) into its parts."""

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
    """Parse a rate text; anything that is not Free, a percentage, per-unit amounts or a sum of them is a TextRate."""
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
