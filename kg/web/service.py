"""What the page and the API ask of the graph: one object per backend, with its caches.

Each method takes validated questions (kg.web.questions) and returns what the CLI computes for
them, from the CLI's own functions: kg.duty.duty_answer's DutyAnswer (serialised by
kg.report.render), kg.timeline's Timeline, Diff and events, kg.series' rows, so the JSON of the
API is the CLI's. Only the code search (kg.web.search) and the pages of the acts (for links on
the page) are the web layer's own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

from kg import series as series_module
from kg import timeline as timeline_module
from kg.duty import DutyAnswer, EntryFacts, duty_answer
from kg.errors import InputError
from kg.queries import stored_query
from kg.timeline import Diff, Event, Timeline
from kg.web.questions import DutyQuestion, ParameterError, Period, from_cli_error
from kg.web.search import CodeIndex

MAX_SERIES_LINES = 100


def _facts_key(facts: EntryFacts) -> tuple:
    """The entry facts as a hashable key."""
    return (facts.claim, facts.quota, tuple(sorted(facts.content.items())), facts.loaded)


class Service:
    """The questions of the web layer over one backend (embedded store or SPARQL endpoint)."""

    def __init__(self, backend, cache_size: int = 4096):
        self.backend = backend
        self.codes = CodeIndex(backend)
        self._answers: OrderedDict[tuple, DutyAnswer] = OrderedDict()
        self._timelines: OrderedDict[tuple, Timeline] = OrderedDict()
        self._events: dict[tuple, list[Event]] = {}
        self._act_pages: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._series_lock = threading.Lock()  # kg.series keeps its plan in module state
        self._cache_size = cache_size

    def duty(self, question: DutyQuestion) -> DutyAnswer:
        """The duty answer, as `tariffkg duty` gives it (answers are kept for repeated asks)."""
        return self._cached(self._answers, question.key(), lambda: duty_answer(
            self.backend, question.hts, question.origin, question.date, question.as_known_on,
            question.facts))

    def timeline(self, hts: str, origin: str, period: Period, as_known_on: date | None,
                 facts: EntryFacts | None = None) -> Timeline:
        """The duty over the period as `tariffkg timeline` gives it (kg.timeline.duty_steps);
        as_known_on None: each day as the law was known that day (as applied)."""
        facts = facts or EntryFacts()
        key = (hts, origin, period.start, period.end, as_known_on, _facts_key(facts))
        return self._cached(self._timelines, key, lambda: timeline_module.duty_steps(
            self.backend, hts, origin, period.start, period.end, as_known_on, facts))

    def _cached(self, cache: OrderedDict, key: tuple, compute):
        """compute()'s value, kept under key (the oldest dropped past the cache size); a CLI
        message is rewritten to name the API's parameter."""
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        try:
            value = compute()
        except InputError as error:
            raise from_cli_error(error) from None
        with self._lock:
            cache[key] = value
            while len(cache) > self._cache_size:
                cache.popitem(last=False)
        return value

    def events(self, origin: str, known_on: date | None = None) -> list[Event]:
        """Negotiation events of the origin and court rulings known by known_on (all: None), as
        kg.timeline.events_for gives them to the CLI's chart (kept per question)."""
        key = (origin, known_on)
        if key not in self._events:
            self._events[key] = timeline_module.events_for(self.backend, origin, known_on)
        return self._events[key]

    def act_pages(self) -> dict[str, str]:
        """The web page of each instrument, by its identifier and its Federal Register citation
        (for links to the acts a timeline names)."""
        if self._act_pages is None:
            pages: dict[str, str] = {}
            for row in self.backend.select(stored_query("instruments").text, {}):
                if row.get("page") is None:
                    continue
                for key in ("identifier", "frCitation"):
                    if row.get(key) is not None:
                        pages.setdefault(str(row[key]), str(row["page"]))
            self._act_pages = pages
        return self._act_pages

    def diff(self, origin: str, first: date, second: date, as_known_on: date,
             hts: str | None = None, facts: EntryFacts | None = None) -> Diff:
        """What changed between two entry days, as `tariffkg diff` gives it (kg.timeline.diff)."""
        try:
            return timeline_module.diff(self.backend, origin, first, second, as_known_on, hts,
                                        facts)
        except InputError as error:
            raise from_cli_error(error) from None

    def series(self, origins: list[str], prefixes: list[str], period: Period,
               as_known_on: date | None) -> tuple[list[str], list[dict]]:
        """The columns and rows of `tariffkg series` for the origins and HTS prefixes (at most
        MAX_SERIES_LINES tariff lines); as_known_on None: as applied ('entry')."""
        spec = series_module.SeriesSpec(origins, prefixes, period.start, period.end, as_known_on)
        with self._series_lock:
            try:
                plan = series_module.plan_series(self.backend, spec)
            except InputError as error:
                if str(error).startswith("no 8-digit"):
                    raise ParameterError("hts", str(error)) from None
                raise from_cli_error(error) from None
            if len(plan.lines) > MAX_SERIES_LINES:
                raise ParameterError("hts", f"{','.join(prefixes)} holds {len(plan.lines)} tariff "
                                            f"lines; the web API answers at most "
                                            f"{MAX_SERIES_LINES} (give longer prefixes, or use "
                                            "`tariffkg series` for whole chapters)")
            rows = [{c: row.get(c) for c in plan.columns} for row in plan.run(jobs=1)]
        return plan.columns, rows

    def search(self, text: str, limit: int = 20) -> list[dict]:
        """HTS codes by digits or description words."""
        return [code.to_dict() for code in self.codes.search(text, limit)]
