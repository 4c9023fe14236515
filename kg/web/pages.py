"""The HTML page: the question form, the answer as the CLI's text report shows it, and the two
parts loaded after it (the timeline chart and what changed between two dates).

Templates are Jinja2 files in kg/web/templates with autoescaping on; every value from a request
or the graph is escaped. The page works without scripts (the parts are then links); the script
only fills the code suggestions and loads the parts in place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import pycountry
from jinja2 import Environment, PackageLoader, select_autoescape

from kg.duty import DutyAnswer, Source
from kg.errors import InputError, TariffKGError
from kg.report import coverage_text, total_text
from kg.web import questions as q
from kg.web.chart import timeline_svg
from kg.web.service import Service

FIRST_DAY = date(2025, 1, 1)
STATIC = Path(__file__).resolve().parent / "static"
FORM_FIELDS = ("hts", "origin", "date", "as_known_on", "claim", "quota", "content", "loaded",
               "from", "to", "compare")
EXAMPLES = [
    ("a Japanese car, August 2025", {"hts": "8703.23.01", "origin": "JP", "date": "2025-08-08"}),
    ("the same car after the deal", {"hts": "8703.23.01", "origin": "JP", "date": "2025-09-16"}),
    ("Japanese toys after the Supreme Court ruling",
     {"hts": "9503.00.00", "origin": "JP", "date": "2026-03-02"}),
]


class Pages:
    """Renders the page and its parts for a Service."""

    def __init__(self, service: Service, today: Callable[[], date] = date.today):
        self.service = service
        self.today = today
        self.env = Environment(loader=PackageLoader("kg.web", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.filters["percent"] = _percent
        self.env.globals["link"] = link
        self.env.globals["asset"] = asset_url
        self.countries = sorted((c.alpha_2, c.name) for c in pycountry.countries)

    def index(self, raw: Mapping[str, str]) -> str:
        """The page for the question in the query string (an empty form without one)."""
        params = {name: (raw.get(name) or "").strip() for name in FORM_FIELDS}
        context: dict = {"params": params, "countries": self.countries, "examples":
                         [(text, "/?" + urlencode(values)) for text, values in EXAMPLES],
                         "error": None, "matches": None, "answer": None, "today": self.today()}
        if any(params[name] for name in ("hts", "origin", "date")):
            try:
                context.update(self._answer(params))
            except TariffKGError as error:
                context["error"] = shown_error(error)
        return self.env.get_template("index.html").render(context)

    def _answer(self, params: dict[str, str]) -> dict:
        text = q.required(params, "hts", "an HTS line such as 8703.23.01, or words of its "
                                         "description")
        digits = re.sub(r"[.\s]", "", text)
        if not digits.isdigit() or len(digits) in (2, 4, 6):
            return self._matches(text)
        question = q.duty_question(params, self.today())
        answer = self.service.duty(question)
        known_given = bool(params["as_known_on"])
        part_params = {k: v for k, v in params.items() if v}
        compare = params["compare"] or params["from"] or FIRST_DAY.isoformat()
        return {"answer": answer, "sources": numbered_sources(answer), "question": question,
                "known_given": known_given,
                "total": total_text(answer), "coverage": coverage_text(answer),
                "api_link": "/api/duty?" + urlencode(_duty_params(part_params)),
                "timeline_link": "/part/timeline?" + urlencode(part_params),
                "diff_link": "/part/diff?" + urlencode({**part_params, "compare": compare}),
                "compare": compare}

    def _matches(self, text: str) -> dict:
        found = self.service.search(text, 30)
        if not found:
            raise q.ParameterError("hts", f"no HTS code or description matches {text!r}: give "
                                          "an HTS line (8 or 10 digits) or other words")
        return {"matches": found, "match_text": text}

    def timeline_part(self, raw: Mapping[str, str]) -> str:
        """The chart of the duty over time with its steps, as an HTML fragment: the timeline of
        `tariffkg timeline` as known on the question's day of knowledge, and the events known
        by then."""
        params = dict(raw)
        try:
            hts = q.hts_line(q.required(params, "hts", "an HTS line"))
            origin = q.origin(q.required(params, "origin", "a country of origin"))
            period = q.period(params, FIRST_DAY, self.today())
            known = q.known_on(q.value(params, "as_known_on"), today=self.today())
            marked = q.day(params["date"], "date") if q.value(params, "date") else None
            timeline = self.service.timeline(hts, origin, period, known, q.entry_facts(params))
            events = self.service.events(origin, known)
            act_pages = self.service.act_pages()
        except TariffKGError as error:
            return self._error_part(error)
        title = (f"Total duty on {timeline.hts} from {origin}, entries {period.start} to "
                 f"{period.end}, as the law was known on {known}")
        svg = timeline_svg(timeline.to_dict()["steps"], [e.to_dict() for e in events],
                           period.start, period.end, marked, title, act_pages)
        api_params = {k: v for k, v in params.items() if v and k not in ("date", "compare")}
        return self.env.get_template("timeline.html").render(
            timeline=timeline, events=[e for e in events if period.start <= e.day <= period.end],
            svg=svg, title=title, act_pages=act_pages,
            api_link="/api/timeline?" + urlencode({**api_params, "as_known_on": known}))

    def diff_part(self, raw: Mapping[str, str]) -> str:
        """What changed in the duty between the compare date and the entry date (a fragment):
        `tariffkg diff --hts` for the question."""
        params = dict(raw)
        try:
            hts = q.hts_line(q.required(params, "hts", "an HTS line"))
            origin = q.origin(q.required(params, "origin", "a country of origin"))
            second = q.entry_day(q.required(params, "date", "the entry date"))
            first = q.entry_day(q.value(params, "compare") or FIRST_DAY.isoformat(), "compare")
            known = q.known_on(q.value(params, "as_known_on"), today=self.today())
            result = self.service.diff(origin, first, second, known, hts, q.entry_facts(params))
        except TariffKGError as error:
            return self._error_part(error)
        facts = {k: params[k] for k in q.FACT_PARAMETERS if q.value(params, k)}
        api_link = "/api/diff?" + urlencode({"from": first, "to": second, "origin": origin,
                                             "hts": result.hts, "as_known_on": known, **facts})
        return self.env.get_template("diff.html").render(diff=result, api_link=api_link)

    def _error_part(self, error: TariffKGError) -> str:
        return self.env.get_template("error.html").render(error=shown_error(error))


def shown_error(error: TariffKGError) -> TariffKGError:
    """The error as the page shows it: a bad value names its parameter; a store or endpoint that
    fails says so."""
    if isinstance(error, InputError):
        return q.from_cli_error(error)
    return error


@lru_cache(maxsize=None)
def asset_url(name: str) -> str:
    """The address of a static file with a digest of its content, so browsers never keep an old
    copy after an upgrade."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


def numbered_sources(answer: DutyAnswer) -> list[Source]:
    """The distinct sources of the applied parts, in the order the text report numbers them."""
    found: list[Source] = []
    for part in answer.components:
        for source in part.sources:
            if source not in found:
                found.append(source)
    return found


def link(url: str | None) -> str | None:
    """The URL if it is a web address a page may link to, else None (no javascript: links)."""
    return url if url and re.match(r"^https?://", url) else None


def _percent(value) -> str:
    return "?" if value is None else f"{value:g}%"


def _duty_params(params: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in params.items() if k in q.DUTY_PARAMETERS}
