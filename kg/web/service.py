"""What the page and the API ask of the graph: one object per backend, with its caches.

Each method takes validated questions (kg.web.questions) and returns what the CLI computes for
them: kg.duty.duty_answer's DutyAnswer (serialised by kg.report.render, so the JSON is the CLI's
contract), the steps over time and the differences of kg.web.history, the code search of
kg.web.search.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date

from kg.duty import DutyAnswer, EntryFacts, duty_answer
from kg.errors import InputError
from kg.web import history
from kg.web.questions import DutyQuestion, ParameterError, Period, from_cli_error
from kg.web.search import CodeIndex

MAX_SERIES_LINES = 12


class Service:
    """The questions of the web layer over one backend (embedded store or SPARQL endpoint)."""

    def __init__(self, backend, cache_size: int = 4096):
        self.backend = backend
        self.codes = CodeIndex(backend)
        self._answers: OrderedDict[tuple, DutyAnswer] = OrderedDict()
        self._events: dict[str, list[dict]] = {}
        self._days: OrderedDict[date, list[date]] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def duty(self, question: DutyQuestion) -> DutyAnswer:
        """The duty answer, as `tariffkg duty` gives it (answers are kept for repeated asks)."""
        key = question.key()
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        try:
            answer = duty_answer(self.backend, question.hts, question.origin, question.date,
                                 question.as_known_on, question.facts)
        except InputError as error:
            raise from_cli_error(error) from None
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._cache_size:
                self._answers.popitem(last=False)
        return answer

    def steps(self, hts: str, origin: str, period: Period, as_known_on: date,
              facts: EntryFacts | None = None) -> list[history.Step]:
        """The duty on a line from an origin as steps over the period."""
        facts = facts or EntryFacts()

        def answer(day: date) -> DutyAnswer:
            return self.duty(DutyQuestion(hts, origin, day, as_known_on, facts))

        answer(period.start)  # an unknown line fails here, once
        return history.steps(answer, period.start, period.end, self.change_days(as_known_on))

    def change_days(self, as_known_on: date) -> list[date]:
        """Every day on which the law as known on as_known_on can change (kept per day)."""
        with self._lock:
            found = self._days.get(as_known_on)
        if found is None:
            found = history.change_days(self.backend, as_known_on)
            with self._lock:
                self._days[as_known_on] = found
                while len(self._days) > 64:
                    self._days.popitem(last=False)
        return found

    def timeline(self, hts: str, origin: str, period: Period, as_known_on: date,
                 facts: EntryFacts | None = None) -> dict:
        """The steps of the duty over the period, with the events of the origin."""
        facts = facts or EntryFacts()
        steps = self.steps(hts, origin, period, as_known_on, facts)
        return {"hts": steps[0].answer.hts, "origin": origin, "from": period.start.isoformat(),
                "to": period.end.isoformat(), "as_known_on": as_known_on.isoformat(),
                "entry_facts": facts.to_dict(), "steps": [s.to_dict() for s in steps],
                "events": self.events(origin)}

    def events(self, origin: str) -> list[dict]:
        """Negotiation events of the origin and court rulings (kept per origin)."""
        if origin not in self._events:
            self._events[origin] = history.events(self.backend, origin)
        return self._events[origin]

    def diff(self, origin: str, first: date, second: date, as_known_on: date,
             hts: str | None = None, facts: EntryFacts | None = None) -> dict:
        """What changed between two entry days: in the duty on hts, or in the origin's measures."""
        head = {"origin": origin, "hts": None, "from": first.isoformat(),
                "to": second.isoformat(), "as_known_on": as_known_on.isoformat()}
        if hts is None:
            return head | history.origin_diff(self.backend, origin, first, second, as_known_on)
        facts = facts or EntryFacts()
        before = self.duty(DutyQuestion(hts, origin, first, as_known_on, facts))
        after = self.duty(DutyQuestion(hts, origin, second, as_known_on, facts))
        return head | {"hts": before.hts} | history.product_diff(before, after)

    def series(self, origins: list[str], prefixes: list[str], period: Period,
               as_known_on: date) -> list[dict]:
        """Rows of constant duty for every tariff line under the prefixes and every origin."""
        lines = self.lines_under(prefixes)
        rows = []
        for origin in origins:
            for line in lines:
                steps = self.steps(line, origin, period, as_known_on)
                rows += history.series_rows(steps[0].answer.hts, origin, steps)
        return rows

    def lines_under(self, prefixes: list[str]) -> list[str]:
        """The digits of the tariff lines under the HTS prefixes (at most MAX_SERIES_LINES)."""
        lines: list[str] = []
        for prefix in prefixes:
            found = ([prefix[:8]] if len(prefix) >= 8 else
                     [code.digits for code in self.codes.lines_under(prefix)])
            if not found:
                raise ParameterError("hts", f"no tariff line starts with {prefix}")
            lines += [line for line in found if line not in lines]
        if len(lines) > MAX_SERIES_LINES:
            raise ParameterError("hts", f"{','.join(prefixes)} holds {len(lines)} tariff lines; "
                                        f"the web API answers at most {MAX_SERIES_LINES} (give "
                                        "longer prefixes, or use `tariffkg series` for whole "
                                        "chapters)")
        return lines

    def search(self, text: str, limit: int = 20) -> list[dict]:
        """HTS codes by digits or description words."""
        return [code.to_dict() for code in self.codes.search(text, limit)]

