"""The Python API: what a notebook needs, with the command line's checks and defaults.

    import kg
    store = kg.open_store()                     # the embedded store, built on first use
    a = kg.answer(store, "8703.23.01", "JP", "2025-05-01", as_known_on="2025-05-01")
    a.total_ad_valorem_percent, a.coverage.complete, a.as_applied
    t = kg.duty_timeline(store, "8467.21.00", "JP", "2025-03-01", "2026-06-30")
    [(s.start, s.total, s.acts) for s in t.steps]

Dates may be given as datetime.date or as YYYY-MM-DD text; every function raises kg.InputError
(with the message the command line prints) for a bad question. The names do not repeat the
modules' (kg.batch, kg.timeline are modules): answers() is the batch, duty_timeline() the steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

from kg.duty import DutyAnswer, EntryFacts, duty_answer, parse_entry_facts
from kg.errors import InputError
from kg.inputs import parse_date, parse_known_on
from kg.timeline import Diff, Timeline


def open_store(root: Path | str | None = None, data: Iterable[Path | str] = ()):
    """The embedded store (built on first use, about a minute), to pass to the other functions.

    root is the folder that holds stores (the command line's --store; default TARIFFKG_HOME or the
    user data directory). data: your own Turtle files, added to the curated timeline as with
    --data (validated first: a kg.DataError names the violations they add).
    """
    from kg.build import ensure_store
    from kg.errors import DataError
    from kg.store import LocalStore

    folder = Path(root) if root is not None else None
    files = [Path(p) for p in data]
    if files:
        from kg.userdata import open_user_store

        store, report = open_user_store(files, folder)
        if store is None:
            raise DataError("your files add violations: " + "; ".join(
                f"{r.focus}: {r.message}" for r in report.results if r.severity == "Violation"))
        return store
    return LocalStore.open(ensure_store(folder))


def open_endpoint(url: str, user: str | None = None, password: str | None = None,
                  timeout: float = 60):
    """A SPARQL 1.1 endpoint holding the graph (tariffkg load), to pass to the other functions."""
    from kg.store import RemoteEndpoint

    return RemoteEndpoint(url, user, password, timeout)


def answer(backend, hts: str, origin: str, on: date | str, as_known_on: date | str | None = None,
           claim: str | None = None, quota: str = "over", content: str | Mapping | None = None,
           loaded: date | str | None = None) -> DutyAnswer:
    """The duty on hts from origin entered on `on`, as the law was known on as_known_on.

    as_known_on defaults to today; when it is not the entry date the answer also carries the duty
    as applied at entry (answer.as_applied) and the difference. claim is a special program
    indicator (KR, S, ...), quota "in" or "over", content the metal shares ("steel=40" or
    {"steel": 40}), loaded the day the goods were put in transit. The answer's to_dict() is the
    JSON contract of the README.
    """
    facts = entry_facts(claim, quota, content, loaded)
    return duty_answer(backend, hts, origin, _day(on, "date"), _known(as_known_on), facts)


def entry_facts(claim: str | None = None, quota: str = "over", content: str | Mapping | None = None,
                loaded: date | str | None = None) -> EntryFacts:
    """The facts of an entry, checked as the command line checks them."""
    shares = (",".join(f"{k}={v}" for k, v in content.items()) if isinstance(content, Mapping)
              else content)
    day = loaded.isoformat() if isinstance(loaded, date) else loaded
    return parse_entry_facts(claim, quota, shares, day, label="{}")


def answers(backend, questions: Path | str | Iterable[Mapping[str, str]],
            as_known_on: date | str | None = None) -> list[DutyAnswer]:
    """One answer per question, in order: a CSV file (the columns of `tariffkg duty --batch`,
    checked as it checks them) or rows as dicts with the same keys. A bad row raises InputError
    naming its line (file) or number (rows)."""
    from kg.batch import BatchFile, answer_stream

    known = _known(as_known_on)
    if isinstance(questions, (str, Path)):
        batch = BatchFile(questions)
        rows, where = batch.rows(), f"{batch.path}:{{}}"
    else:
        rows = ((number, {k: str(v).strip() for k, v in row.items()
                          if k is not None and v is not None})
                for number, row in enumerate(questions, 1))
        where = "question {}"
    found = []
    for number, answer in answer_stream(rows, lambda asked: duty_answer(backend, *asked), known):
        if isinstance(answer, InputError):
            raise InputError(f"{where.format(number)}: {answer}")
        found.append(answer)
    return found


def duty_timeline(backend, hts: str, origin: str, start: date | str = "2025-01-01",
             end: date | str | None = None, as_known_on: date | str | None = None,
             **facts) -> Timeline:
    """The duty on hts from origin as steps over the entry days [start, end] (end: today).

    Without as_known_on each day is answered as the law was known that day (as applied); each
    step lists its changes and the acts behind them (step.acts). facts: claim, quota, content,
    loaded, as for answer().
    """
    from kg.timeline import duty_steps

    last = _day(end, "end") if end else date.today()
    known = parse_known_on(_text(as_known_on)) if as_known_on is not None else None
    return duty_steps(backend, hts, origin, _day(start, "start"), last, known,
                      entry_facts(**facts) if facts else None)


def duty_diff(backend, origin: str, first: date | str, second: date | str,
         as_known_on: date | str | None = None, hts: str | None = None, **facts) -> Diff:
    """What changed for goods of origin between two entry days (for one product if hts given).

    facts: claim, quota, content, loaded, as for answer(); only with hts (both days' answers use
    them).
    """
    from kg.timeline import diff as diff_days

    return diff_days(backend, origin, _day(first, "first"), _day(second, "second"),
                     _known(as_known_on), hts, entry_facts(**facts) if facts else None)


def _day(value: date | str | None, what: str) -> date:
    if isinstance(value, date):
        return value
    return parse_date(value or "", what)


def _known(value: date | str | None) -> date:
    return parse_known_on(_text(value)) if value is not None else date.today()


def _text(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value
