"""Request parameters as validated questions: the CLI's options under the names of the HTTP API.

Every function raises ParameterError, an InputError that names the parameter at fault, so the API
can answer HTTP 400 with `{"error": "...", "parameter": "..."}` and the page can mark the field.
The values are checked by the same functions the CLI uses (kg.inputs, kg.duty.parse_entry_facts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from kg.duty import EARLIEST_ENTRY, EntryFacts, parse_entry_facts
from kg.errors import InputError
from kg.inputs import (
    EARLIEST_KNOWN_ON,
    country_code,
    dotted_hts,
    hts_digits,
    parse_date,
)

# The CLI's option names, as they appear in messages of kg's functions, and the API's names.
OPTION_NAMES = {
    "--hts": "hts", "--origin": "origin", "--date": "date", "--as-known-on": "as_known_on",
    "--claim": "claim", "--quota": "quota", "--content": "content", "--loaded": "loaded",
    "--from": "from", "--to": "to",
}


class ParameterError(InputError):
    """A request parameter that cannot be used; `parameter` names it, the message starts with it."""

    def __init__(self, parameter: str, message: str):
        if not message.startswith(parameter):
            message = f"{parameter}: {message}"
        super().__init__(message)
        self.parameter = parameter


def from_cli_error(error: InputError, default: str = "request") -> ParameterError:
    """A message of kg's functions (written for CLI options) rewritten to name the parameter."""
    if isinstance(error, ParameterError):
        return error
    text = str(error)
    parameter = default
    for option, name in OPTION_NAMES.items():
        if re.search(re.escape(option) + r"\b", text):
            parameter = name if parameter == default else parameter
            text = re.sub(re.escape(option) + r"\b", name, text)
    if parameter == default and "HTS code" in text:
        parameter = "hts"
    return ParameterError(parameter, text)


def reject_unknown(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse a parameter the endpoint does not take (most often a typing slip)."""
    known = list(allowed)
    for name in params:
        if name not in known:
            raise ParameterError(name, "unknown parameter (this request takes: "
                                       f"{', '.join(known)})")


def value(params: Mapping[str, str], name: str) -> str | None:
    """The parameter's text without surrounding spaces, or None when absent or empty."""
    text = params.get(name)
    text = text.strip() if text is not None else None
    return text or None


def required(params: Mapping[str, str], name: str, meaning: str) -> str:
    """The parameter's text; a ParameterError saying what to give when it is missing."""
    text = value(params, name)
    if text is None:
        raise ParameterError(name, f"missing: give {meaning}")
    return text


def hts_line(text: str, name: str = "hts") -> str:
    """The digits of an 8- or 10-digit HTS line."""
    digits = _checked(name, hts_digits, text, name)
    if len(digits) not in (8, 10):
        raise ParameterError(name, f"{dotted_hts(digits)} is a heading or subheading: give a "
                                   "tariff line (8 digits) or a statistical line (10 digits)")
    return digits


def hts_prefix(text: str, name: str = "hts") -> str:
    """The digits of an HTS code of 2 to 10 digits (a chapter, heading, subheading or line)."""
    digits = re.sub(r"[.\s]", "", text)
    if not re.fullmatch(r"\d{2}(\d{2}){0,4}", digits):
        raise ParameterError(name, f"{text!r} is not an HTS chapter, heading or line (2 to 10 "
                                   "digits, dots optional)")
    return digits


def origin(text: str, name: str = "origin") -> str:
    """The ISO 3166-1 alpha-2 code of the country typed (code or English name)."""
    try:
        return country_code(text)
    except InputError as error:
        raise ParameterError(name, str(error)) from None


def day(text: str, name: str) -> date:
    """A date in the form YYYY-MM-DD."""
    try:
        return parse_date(text, name)
    except InputError as error:
        raise ParameterError(name, str(error)) from None


def entry_day(text: str, name: str = "date") -> date:
    """An entry date inside the data (from the 2025 HTS Basic Edition on)."""
    on = day(text, name)
    if on < EARLIEST_ENTRY:
        raise ParameterError(name, f"{on}: the data begins with the 2025 HTS Basic Edition "
                                   f"({EARLIEST_ENTRY})")
    return on


def known_on(text: str | None, name: str = "as_known_on", today: date | None = None) -> date:
    """The day the law is taken as known on: today when not given, never before the data."""
    if text is None:
        return today or date.today()
    known = day(text, name)
    if known < EARLIEST_KNOWN_ON:
        raise ParameterError(name, f"{known} is before {EARLIEST_KNOWN_ON}, where the data begins")
    return known


def entry_facts(params: Mapping[str, str]) -> EntryFacts:
    """The entry facts (claim, quota, content, loaded), with the CLI's defaults and its parser."""
    try:
        return parse_entry_facts(claim=value(params, "claim"), quota=value(params, "quota"),
                                 content=value(params, "content"), loaded=value(params, "loaded"))
    except InputError as error:
        raise from_cli_error(error) from None


def _checked(name: str, check, *args):
    """check(*args), its InputError turned into a ParameterError naming the parameter."""
    try:
        return check(*args)
    except InputError as error:
        raise ParameterError(name, str(error)) from None


Day = date  # (a field below is called `date`)


@dataclass(frozen=True)
class DutyQuestion:
    """One duty question: a line, an origin, an entry date, a day of knowledge, the entry facts."""

    hts: str
    origin: str
    date: Day
    as_known_on: Day
    facts: EntryFacts = field(default_factory=EntryFacts)

    def key(self) -> tuple:
        """A hashable key of the question (for caches)."""
        facts = self.facts
        return (self.hts, self.origin, self.date, self.as_known_on, facts.claim, facts.quota,
                tuple(sorted(facts.content.items())), facts.loaded)


FACT_PARAMETERS = ("claim", "quota", "content", "loaded")
DUTY_PARAMETERS = ("hts", "origin", "date", "as_known_on", *FACT_PARAMETERS)


def duty_question(params: Mapping[str, str], today: date | None = None) -> DutyQuestion:
    """The duty question of /api/duty's (and the page's) parameters."""
    return DutyQuestion(
        hts=hts_line(required(params, "hts", "an HTS line such as 8703.23.01")),
        origin=origin(required(params, "origin", "a country of origin such as JP or Japan")),
        date=entry_day(required(params, "date", "the entry date as YYYY-MM-DD")),
        as_known_on=known_on(value(params, "as_known_on"), today=today),
        facts=entry_facts(params),
    )


@dataclass(frozen=True)
class Period:
    """First and last day of a period (both included)."""

    start: date
    end: date


def period(params: Mapping[str, str], default_start: date, default_end: date,
           names: tuple[str, str] = ("from", "to")) -> Period:
    """The period of the `from` and `to` parameters, checked to be in order and inside the data."""
    first_name, last_name = names
    first = value(params, first_name)
    last = value(params, last_name)
    start = entry_day(first, first_name) if first else default_start
    end = day(last, last_name) if last else default_end
    if end < start:
        raise ParameterError(last_name, f"{end} is before {first_name} {start}")
    return Period(start, end)
