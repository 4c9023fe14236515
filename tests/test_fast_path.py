"""The fast path (kg/fast.py) gives the stored query's answers.

The stored query duty_on_date and the fast path answer the same random grid of questions on the
real store: random lines (half of them under a curated product list), every origin the graph's
coverages name plus some they do not, entry days over 2025-01-01..2026-11-30, the law as applied
(as known on the entry day), as known on a later day and as known today, claims, quota status,
metal content and loading days. The stored query runs on an in-memory copy of the store (it is
the same graph; only faster to ask), in two processes when the machine has two cores.
TARIFFKG_FAST_GRID sets the number of questions (default 300, about 5 minutes here; 2000 before a
release).
"""

from __future__ import annotations

import json
import os
import random
from datetime import date, timedelta

import pytest

from kg.duty import DutyAnswer, EntryFacts, duty_answer
from kg.errors import InputError
from kg.fast import SparqlOnly, fast_path, index_for
from kg.namespaces import ID, TKG

FIRST = date(2025, 1, 1)
LAST = date(2026, 11, 30)
TODAY = date(2026, 12, 1)
UNMODELLED = ["AR", "NO", "EG", "NZ"]  # origins no coverage names (only AllCountries reaches them)
CONTENTS = [{"steel": 40.0}, {"aluminum": 10.0}, {"copper": 25.0},
            {"steel": 30.0, "aluminum": 20.0}, {"steel": 100.0}]
GRID = int(os.environ.get("TARIFFKG_FAST_GRID", "300"))


def comparable(answer: DutyAnswer) -> dict:
    """The answer as a dict with every list in a fixed order (SPARQL fixes no row order)."""
    data = answer.to_dict()
    for component in data["components"]:
        component["sources"] = sorted(component["sources"], key=json.dumps)
        component["notes"] = sorted(component["notes"])
    data["components"] = sorted(data["components"], key=lambda c: c["measure"])
    for item in data["not_applied"]:
        item["reasons"] = sorted(item["reasons"], key=json.dumps)
    data["not_applied"] = sorted(data["not_applied"], key=lambda n: n["measure"])
    data["coverage"]["missing"] = sorted(data["coverage"]["missing"])
    data["coverage"]["gaps"] = sorted(data["coverage"]["gaps"], key=json.dumps)
    data["notes"] = sorted(data["notes"])
    return data


def _code(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def question_pools(index) -> dict:
    """Lines, listed lines, origins and claims to draw questions from."""
    lines = sorted(p for p in index.within if len(_code(p)) in (8, 10) and _code(p)[:2] <= "97")
    any_product = str(TKG.AnyProduct)
    listed_codes = {code for code, entries in index.entries_by_code.items()
                    if any(s != any_product for e in entries for s in index.scope_of.get(e, ()))}
    listed = sorted(p for p in lines if listed_codes.intersection(index.within[p]))
    countries = {c for rows in index.coverage.values() for c, _, _ in rows
                 if c.startswith(ID + "country/")}
    origins = sorted(_code(c) for c in countries) + UNMODELLED
    programs = {p for values in index.tables["underProgram"].values() for p in values}
    claims = sorted(_code(p).replace("-plus", "+").replace("-star", "*") for p in programs
                    if p.startswith(ID + "preference/"))
    return {"lines": lines, "listed": listed, "origins": origins, "claims": claims}


def random_questions(index, rng: random.Random, count: int) -> list[tuple]:
    """count random questions: (hts, origin, date, as_known_on, EntryFacts)."""
    pools = question_pools(index)
    questions = []
    for _ in range(count):
        line = rng.choice(pools["listed"] if rng.random() < 0.5 else pools["lines"])
        on = FIRST + timedelta(days=rng.randint(0, (LAST - FIRST).days))
        axis = rng.random()
        known = on if axis < 0.4 else TODAY if axis < 0.6 else (
            on + timedelta(days=rng.randint(0, (TODAY - on).days)))
        facts = EntryFacts(
            claim=rng.choice(pools["claims"]) if rng.random() < 0.25 else None,
            quota="in" if rng.random() < 0.2 else "over",
            content=dict(rng.choice(CONTENTS)) if rng.random() < 0.3 else {},
            loaded=on - timedelta(days=rng.randint(1, 90)) if rng.random() < 0.15 else None)
        questions.append((_code(line), rng.choice(pools["origins"]), on, known, facts))
    return questions


def answer_or_error(backend, question) -> dict | str:
    """The comparable answer, or the input error's message."""
    try:
        return comparable(duty_answer(backend, *question))
    except InputError as error:
        return f"InputError: {error}"


def _sparql_answers(store_path: str, questions: list[tuple]) -> list:
    """The stored query's answers on an in-memory copy of the store (run in a worker process)."""
    import pyoxigraph as ox

    from kg.store import LocalStore

    memory = ox.Store()
    memory.bulk_extend(ox.Store.read_only(store_path).quads_for_pattern(None, None, None, None))
    backend = SparqlOnly(LocalStore(memory))
    return [answer_or_error(backend, q) for q in questions]


@pytest.fixture(scope="module")
def fast_store(shipped_store):
    """The real store with its fast path loaded."""
    assert fast_path(shipped_store) is not None
    return shipped_store


def test_the_fast_path_gives_the_stored_query_answers_on_a_random_grid(fast_store):
    from concurrent.futures import ProcessPoolExecutor

    questions = random_questions(fast_path(fast_store), random.Random(11), GRID)
    fast = [answer_or_error(fast_store, q) for q in questions]
    workers = max(1, min(2, os.cpu_count() or 1))
    shares = [questions[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_sparql_answers, [str(fast_store.path)] * workers, shares))
    stored = [None] * len(questions)
    for i, part in enumerate(parts):
        stored[i::workers] = part
    wrong = [(q, f, s) for q, f, s in zip(questions, fast, stored) if f != s]
    assert not wrong, (f"{len(wrong)} of {len(questions)} answers differ; first: {wrong[0][0]}\n"
                       f"fast:   {json.dumps(wrong[0][1])[:3000]}\n"
                       f"stored: {json.dumps(wrong[0][2])[:3000]}")
    applied = sum(1 for f in fast if isinstance(f, dict) and len(f["components"]) > 1)
    assert applied > len(questions) // 4, "the grid should mostly ask about goods with measures"


def test_the_statistical_suffixes_are_the_same_on_both_paths(fast_store):
    """by_statistical_suffix asks each statistical line a scope or exclusion names the question
    again: the fast path and the stored queries list the same lines and measures, both where the
    duty differs by suffix and where it does not."""
    from kg.duty import _scoped_lines

    parents = sorted(p for p, lines in _scoped_lines(fast_store).items() if len(lines) <= 4)
    rng = random.Random(15)
    differ: list[tuple] = [("94016140", "JP", date(2025, 11, 1), TODAY, EntryFacts())]
    same: list[tuple] = []
    for _ in range(2000):
        if len(differ) >= 6 and len(same) >= 2:
            break
        on = FIRST + timedelta(days=rng.randint(0, (LAST - FIRST).days))
        question = (rng.choice(parents), rng.choice(["JP", "CN", "GB", "MX", "CA", "DE", "AR"]),
                    on, rng.choice([on, TODAY]), EntryFacts())
        found = duty_answer(fast_store, *question).by_statistical_suffix
        (differ if found else same).append(question)
    questions = differ[:6] + same[:2]
    fast = [answer_or_error(fast_store, q) for q in questions]
    stored = _sparql_answers(str(fast_store.path), questions)
    for question, f, s in zip(questions, fast, stored):
        assert f == s, question
    assert all(f["by_statistical_suffix"] for f in fast[:6])


def test_the_index_holds_the_scoped_statistical_lines_the_query_gives(fast_store):
    from kg.duty import _scoped_lines

    assert fast_path(fast_store).scoped_lines == _scoped_lines(SparqlOnly(fast_store))


def test_the_fast_path_is_used_on_the_embedded_store_only(fast_store):
    assert fast_path(SparqlOnly(fast_store)) is None
    assert fast_path(fast_store) is fast_path(fast_store)


def test_unknown_codes_are_refused_alike(fast_store):
    question = ("99999999", "JP", date(2025, 5, 1), date(2025, 5, 1), EntryFacts())
    stored = answer_or_error(SparqlOnly(fast_store), question)
    assert answer_or_error(fast_store, question) == stored


def test_the_index_of_the_fixture_graph_answers_like_its_stored_query(mini_store):
    """The fast path on the small made-up fixture graph (tests/fixtures/queries, rules run), on
    every line, origin, entry day, asking day and entry fact of a grid."""
    from kg.duty import question_bindings
    from kg.fast import Evaluation, Question
    from kg.queries import stored_query, substitute_parameters

    index = index_for(mini_store)  # fast_path() skips in-memory stores
    days = (date(2025, 4, 10), date(2025, 8, 10), date(2025, 9, 20), date(2026, 1, 5),
            date(2026, 3, 1))
    facts = (EntryFacts(), EntryFacts(claim="S", loaded=date(2025, 4, 1)), EntryFacts(quota="in"))
    text = stored_query("duty_on_date").text
    checked = 0
    for hts in ("8703.23.01.10", "8703.23.01", "9503.00.00", "6402.99.42", "7208.51.00",
                "7326.90.86"):
        for origin in ("JP", "CA", "DE", "GB", "HR", "CU"):
            for on in days:
                for known in {on, date(2025, 10, 1), date(2026, 11, 25)}:
                    for fact in facts:
                        if known < on:
                            continue
                        bindings = question_bindings(hts.replace(".", ""), origin, on, known, fact)
                        rows = Evaluation(index, Question.from_bindings(bindings)).duty_rows()
                        stored = mini_store.select(substitute_parameters(text, bindings), {})
                        assert _row_set(rows) == _row_set(stored), (hts, origin, on, known, fact)
                        checked += 1
    assert checked > 700


def _row_set(rows: list[dict]) -> set:
    return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows}
