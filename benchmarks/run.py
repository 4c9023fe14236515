"""Benchmark tariff-kg on the whole graph (every HTS revision, the curated timeline) in one run.

    python benchmarks/run.py                  # every step (about 15-25 minutes on 2 cores)
    python benchmarks/run.py --quick          # smoke run: fewer lookups, a small series
    python benchmarks/run.py --store-root DIR # reuse (or build once) the store under DIR

Prints one table on stdout (name | value | unit | CPU s | target | met? | baseline); progress on
stderr. Everything is measured in this run on this machine, baselines included. The machine may
be shared: wall times then grow with the other load, so the CPU seconds of the step (this process
and its children, threads included) are shown beside them where they tell more; the load average
at the start and end is printed under the table. A step that fails or is skipped keeps its rows,
saying why. A figure that is extrapolated says so in its name.

Steps:
  build       kg.build.build_store into a fresh store root, in a child process: wall and CPU time,
              peak memory (ru_maxrss of the child), and the quads of the store.
  duty        random questions: 8-digit lines of chapters 1-97 x every origin the graph's coverages
              name (and a few they do not) x entry days 2025-01-01..2026-11-30 x as known on the
              entry day, a later day or today. The fast path (kg.duty.duty_answer on the embedded
              store: the answer users get) over --lookups questions; the stored query (the same
              duty_answer on kg.fast.SparqlOnly: duty_on_date and coverage_gaps on the on-disk
              store) over the first --stored-lookups, the answers compared with the fast path's;
              the stored query duty_on_date on rdflib's in-memory Dataset of the same quads (the
              baseline of issue 11) over the first --rdflib-lookups.
  batch       kg.batch.answer_batch of a CSV of --batch-rows random questions (CSV answers).
  series      kg.series for one origin (JP) over every line of chapters 1-97, 2025-01-01 to
              2026-11-30 as known on 2026-12-01 (default worker processes); 15 origins on the lines
              of --series-sample chapters, extrapolated to every line by line count (or on every
              line with --series-full).
  validate    kg.validate.validate([]) in a child process (SHACL and the checks, whole graph).
  load        kg.load.load of the store's named graphs into an Oxigraph server started here as it
              ships (no --union-default-graph), then one duty answer over the endpoint compared
              with the embedded store's.
  cold start  `tariffkg duty --hts 8703.23.01 --origin JP --date 2025-05-01` in a new process,
              TARIFFKG_HOME at the store root, median of 5.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 11, 30)
TODAY = date(2026, 12, 1)
UNMODELLED = ["AR", "NO", "EG", "NZ"]
SERIES_ORIGINS = ["JP", "CN", "CA", "MX", "DE", "FR", "GB", "KR", "IN", "VN", "BR", "CH", "TW",
                  "AU", "ZA"]
COLD_COMMAND = ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"]

# Measure this checkout's code, in this process and its children (benchmarks/batch_stream.py's
# too), whatever the installed tariffkg points at: an installed copy with another kg/fast.py
# would also rewrite the store's fast index under its own key, and the checkout's first answer
# would pay for building it again.
CHECKOUT = str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, CHECKOUT)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [CHECKOUT, os.environ.get("PYTHONPATH")]))

BUILD_CHILD = """
import json, resource, sys, time
from pathlib import Path
from kg.build import build_store
start = time.perf_counter()
build_store(Path(sys.argv[1]))
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "maxrss_kib": usage.ru_maxrss}))
"""

VALIDATE_CHILD = """
import json, resource, time
from kg.validate import validate
start = time.perf_counter()
report = validate([])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "triples": report.triples, "conforms": report.conforms,
                  "violations": report.count("Violation"), "warnings": report.count("Warning"),
                  "maxrss_kib": usage.ru_maxrss}))
"""


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    value: str
    unit: str = ""
    cpu: str = ""
    target: str = ""
    met: str = ""
    baseline: str = ""


class Report:
    """The rows of the table and the notes printed under it."""

    HEADER = ["name", "value", "unit", "CPU s", "target", "met?", "baseline"]

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def add(self, name: str, value, unit: str = "", target: str = "", met: bool | None = None,
            cpu: float | None = None, baseline: str = "") -> None:
        shown = value if isinstance(value, str) else _number(value)
        self.rows.append(Row(name, shown, unit, "-" if cpu is None else _number(cpu),
                             target or "-", "-" if met is None else ("yes" if met else "NO"),
                             baseline or "-"))

    def fail(self, names: list[str], why: str, targets: list[str] | None = None) -> None:
        """Rows for steps that did not produce a number, saying why."""
        for index, name in enumerate(names):
            target = targets[index] if targets else ""
            self.rows.append(Row(name, why, "", "-", target or "-", "n/a", "-"))

    def note(self, text: str) -> None:
        self.notes.append(text)
        _log(f"note: {text}")

    def render(self) -> str:
        body = [[r.name, r.value, r.unit, r.cpu, r.target, r.met, r.baseline] for r in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h)
                  for i, h in enumerate(self.HEADER)]
        lines = [" | ".join(h.ljust(w) for h, w in zip(self.HEADER, widths)).rstrip(),
                 "-|-".join("-" * w for w in widths)]
        lines += [" | ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in body]
        if self.notes:
            lines += ["", "Notes:"] + [f"  * {n}" for n in self.notes]
        return "\n".join(lines)


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def _log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _why(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"FAILED: {type(error).__name__}: {first}"[:160]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of values (fraction in 0..1)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def cpu_now() -> float:
    """CPU seconds of this process (all threads) and of its children that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# ---------------------------------------------------------------------------------------------
# Questions
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    hts: str  # 8 digits
    origin: str  # ISO alpha-2
    on: date
    known_on: date

    def dotted(self) -> str:
        return f"{self.hts[:4]}.{self.hts[4:6]}.{self.hts[6:]}"


def question_pools(index) -> tuple[list[str], list[str]]:
    """The 8-digit lines of chapters 1-97 and the origins the graph's coverages name (+ others)."""
    from kg.namespaces import ID

    lines = sorted(iri.rsplit("/", 1)[-1] for iri in index.within
                   if len(iri.rsplit("/", 1)[-1]) == 8 and "01" <= iri.rsplit("/", 1)[-1][:2] <= "97")
    countries = {c for rows in index.coverage.values() for c, _, _ in rows
                 if c.startswith(ID + "country/")}
    return lines, sorted(c.rsplit("/", 1)[-1] for c in countries) + UNMODELLED


def random_lookups(rng: random.Random, lines: list[str], origins: list[str], count: int) -> list[Lookup]:
    """Random line x origin x entry day x as-known-on (the entry day, a later day, or today)."""
    span = (LAST_DAY - FIRST_DAY).days
    lookups = []
    for _ in range(count):
        on = FIRST_DAY + timedelta(days=rng.randint(0, span))
        axis = rng.random()
        known = on if axis < 0.4 else TODAY if axis < 0.6 else (
            on + timedelta(days=rng.randint(0, (TODAY - on).days)))
        lookups.append(Lookup(rng.choice(lines), rng.choice(origins), on, known))
    return lookups


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.report = Report()
        self.work = Path(tempfile.mkdtemp(prefix="tariffkg-bench-"))
        self.root: Path | None = None
        self.path: Path | None = None
        self.lookups: list[Lookup] = []
        self.lines: list[str] = []
        self.origins: list[str] = []
        self.fast_ms: list[float] = []
        self.stored_ms: list[float] = []
        self.fast_answers: list[dict] = []

    # -- build ------------------------------------------------------------------------------
    def build(self) -> None:
        from kg.build import is_complete, store_path
        from kg.store import LocalStore

        names = ["build: tariffkg build", "quads in the store", "build peak memory (ru_maxrss)"]
        targets = ["<= 60 s", "", "<= 1,536 MiB"]
        try:
            self.root = self.args.store_root.resolve() if self.args.store_root else self.work / "home"
            self.path = store_path(self.root)
            reused = bool(self.args.store_root) and is_complete(self.path)
            result = None
            if reused:
                self.report.fail(names[:1], "not timed: reused the store under --store-root",
                                 targets[:1])
            else:
                _log(f"building the store into {self.path}")
                done = subprocess.run([sys.executable, "-c", BUILD_CHILD, str(self.path)],
                                      capture_output=True, text=True, timeout=self.args.step_timeout,
                                      check=False)
                if done.returncode != 0:
                    raise RuntimeError(_last_line(done.stderr) or f"exit {done.returncode}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                self.report.add(names[0], result["seconds"], "s", targets[0],
                                result["seconds"] <= 60, cpu=result["cpu"])
            store = LocalStore.open(self.path)
            self.report.add(names[1], store.triple_count(), "quads")
            store.close()
            if result is None:
                self.report.fail(names[2:], "not measured (store reused)", targets[2:])
            else:
                mib = result["maxrss_kib"] / 1024
                self.report.add(names[2], mib, "MiB", targets[2], mib <= 1536)
        except Exception as error:  # noqa: BLE001 - a benchmark row says why
            self.path = None
            done_names = {r.name for r in self.report.rows}
            self.report.fail([n for n in names if n not in done_names], _why(error))
            _log(traceback.format_exc())

    # -- duty: fast path, stored query --------------------------------------------------------
    def duty(self) -> None:
        from kg.duty import duty_answer
        from kg.fast import SparqlOnly, fast_path
        from kg.store import LocalStore

        names = ["duty p50, fast path (embedded store)", "duty p95, fast path (embedded store)",
                 "duty p50, stored query (embedded store)", "duty p95, stored query (embedded store)",
                 "fast path answers = stored query answers"]
        try:
            self._need_store()
            store = LocalStore.open(self.path)
            start = time.perf_counter()
            index = fast_path(store)
            self.report.note(f"fast path index loaded in {time.perf_counter() - start:.2f} s")
            self.lines, self.origins = question_pools(index)
            self.lookups = random_lookups(random.Random(self.args.seed), self.lines, self.origins,
                                          self.args.lookups)
            _log(f"{len(self.lookups)} duty answers on the fast path ({len(self.lines):,} lines, "
                 f"{len(self.origins)} origins)")
            duty_answer(store, "8703.23.01", "JP", FIRST_DAY, FIRST_DAY)  # warm-up, not counted
            cpu = time.process_time()
            for lookup in self.lookups:
                began = time.perf_counter()
                answer = duty_answer(store, lookup.hts, lookup.origin, lookup.on, lookup.known_on)
                self.fast_ms.append((time.perf_counter() - began) * 1000)
                if len(self.fast_answers) < self.args.stored_lookups:
                    self.fast_answers.append(_comparable(answer))
            cpu_ms = (time.process_time() - cpu) / len(self.lookups) * 1000
            n = len(self.fast_ms)
            p50, p95 = percentile(self.fast_ms, 0.5), percentile(self.fast_ms, 0.95)
            self.report.add(f"{names[0]} (n={n})", p50, "ms", "<= 5 ms", p50 <= 5)
            self.report.add(f"{names[1]} (n={n})", p95, "ms", "<= 20 ms", p95 <= 20)
            self.report.note(f"fast path: {cpu_ms:.2f} ms CPU per answer on average")

            stored = SparqlOnly(store)
            limit = min(self.args.stored_lookups, len(self.lookups))
            _log(f"stored query: up to {limit} answers or {self.args.stored_seconds:g} s")
            began_all = time.perf_counter()
            differ = 0
            for number, lookup in enumerate(self.lookups[:limit]):
                if time.perf_counter() - began_all > self.args.stored_seconds:
                    break
                began = time.perf_counter()
                answer = duty_answer(stored, lookup.hts, lookup.origin, lookup.on, lookup.known_on)
                self.stored_ms.append((time.perf_counter() - began) * 1000)
                if _comparable(answer) != self.fast_answers[number]:
                    differ += 1
                    self.report.note(f"MISMATCH {lookup}: the fast path and the stored query differ")
            m = len(self.stored_ms)
            if not m:
                raise RuntimeError("no stored-query answer finished")
            fast_same = percentile(self.fast_ms[:m], 0.5)
            s50, s95 = percentile(self.stored_ms, 0.5), percentile(self.stored_ms, 0.95)
            self.report.add(f"{names[2]} (n={m})", s50, "ms", baseline=f"{s50 / fast_same:,.0f}x "
                            "the fast path")
            self.report.add(f"{names[3]} (n={m})", s95, "ms")
            self.report.add(f"{names[4]} (first {m})", f"{m - differ}/{m}", "answers",
                            "all equal", differ == 0)
            store.close()
        except Exception as error:  # noqa: BLE001
            done_names = {r.name.split(" (")[0] for r in self.report.rows}
            self.report.fail([n for n in names if n.split(" (")[0] not in done_names], _why(error))
            _log(traceback.format_exc())

    # -- duty: rdflib baseline ---------------------------------------------------------------
    def duty_rdflib(self) -> None:
        names = ["rdflib Dataset load (same quads)", "duty p50, stored query on rdflib in-memory",
                 "speed-up: rdflib p50 / fast path p50"]
        targets = ["", "", ">= 20x"]
        if self.args.skip_rdflib:
            self.report.fail(names, "skipped (--skip-rdflib)", targets)
            return
        try:
            import pyoxigraph as ox
            from rdflib import Dataset, URIRef

            from kg.duty import EntryFacts, question_bindings
            from kg.queries import stored_query, substitute_parameters
            from kg.store import term_converter

            self._need_store()
            if not self.fast_ms:
                raise RuntimeError("no fast path answers to compare with")
            _log("loading rdflib's in-memory Dataset from the store's quads")
            start = time.perf_counter()
            dataset = Dataset(default_union=True)
            term = term_converter()
            graphs: dict = {}

            def graph(name):
                found = graphs.get(name)
                if found is None:
                    found = graphs[name] = dataset.graph(URIRef(name.value))
                return found

            source = ox.Store.read_only(str(self.path))
            dataset.addN((term(q.subject), term(q.predicate), term(q.object), graph(q.graph_name))
                         for q in source.quads_for_pattern(None, None, None, None))
            del source
            self.report.add(names[0], time.perf_counter() - start, "s")
            text = stored_query("duty_on_date").text
            limit = min(self.args.rdflib_lookups, len(self.lookups))
            timings: list[float] = []
            began_all = time.perf_counter()
            for lookup in self.lookups[:limit]:
                if time.perf_counter() - began_all > self.args.rdflib_seconds:
                    break
                bindings = question_bindings(lookup.hts, lookup.origin, lookup.on,
                                             lookup.known_on, EntryFacts())
                bound = substitute_parameters(text, bindings)
                began = time.perf_counter()
                list(dataset.query(bound))
                timings.append((time.perf_counter() - began) * 1000)
            n = len(timings)
            if not n:
                raise RuntimeError("no rdflib lookup finished")
            rdflib_p50 = percentile(timings, 0.5)
            fast_same = percentile(self.fast_ms[:n], 0.5)
            self.report.add(f"{names[1]} (n={n})", rdflib_p50, "ms")
            ratio = rdflib_p50 / fast_same
            self.report.add(f"{names[2]} (same {n} questions)", f"{ratio:,.0f}x", "", targets[2],
                            ratio >= 20, baseline=f"rdflib {rdflib_p50:,.0f} ms")
            if n < limit:
                self.report.note(f"rdflib stopped after {n} of {limit} lookups (the "
                                 f"{self.args.rdflib_seconds:g} s budget ran out)")
            graphs.clear()
            dataset = None
            gc.collect()
        except Exception as error:  # noqa: BLE001
            done_names = {r.name.split(" (")[0] for r in self.report.rows}
            self.report.fail([n for n in names if n not in done_names], _why(error))
            _log(traceback.format_exc())

    # -- batch ------------------------------------------------------------------------------
    def batch(self) -> None:
        from kg.batch import answer_batch
        from kg.store import LocalStore

        count = self.args.batch_rows
        target_s = count / 1000
        name = f"batch: answer_batch, {count:,} rows"
        target = f"<= {target_s:g} s" + ("" if count == 10_000 else " (10,000 rows in 10 s)")
        try:
            self._need_store()
            if not self.lines:
                raise RuntimeError("no lines (the duty step failed)")
            lookups = random_lookups(random.Random(self.args.seed + 1), self.lines, self.origins,
                                     count)
            path = self.work / "batch.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["hts", "origin", "date", "as_known_on"])
                for q in lookups:
                    writer.writerow([q.dotted(), q.origin, q.on.isoformat(), q.known_on.isoformat()])
            store = LocalStore.open(self.path)
            answered = 0
            errors: list[str] = []

            def echo(text: str, err: bool = False) -> None:
                nonlocal answered
                if err:
                    errors.append(text)
                else:
                    answered += 1

            _log(f"batch of {count:,} rows")
            cpu = time.process_time()
            start = time.perf_counter()
            answer_batch(store, path, "csv", echo)
            seconds = time.perf_counter() - start
            store.close()
            baseline = ""
            if self.stored_ms:
                baseline = f"stored query: ~{percentile(self.stored_ms, 0.5) * count / 1000:,.0f} s (p50 x rows)"
            self.report.add(name, seconds, "s", target, seconds <= target_s,
                            cpu=time.process_time() - cpu, baseline=baseline)
            if errors or answered != count + 1:
                self.report.note(f"batch: {len(errors)} rows failed, {answered} lines written "
                                 f"for {count} rows" + (f"; first: {errors[0]}" if errors else ""))
        except Exception as error:  # noqa: BLE001
            self.report.fail([name], _why(error), [target])
            _log(traceback.format_exc())

    # -- series -----------------------------------------------------------------------------
    def series(self) -> None:
        names = ["series: 1 origin (JP), all lines of ch. 1-97, 2025-01-01..2026-11-30",
                 "series: 15 origins, all lines"]
        targets = ["<= 60 s", "<= 600 s"]
        if self.args.skip_series:
            self.report.fail(names, "skipped (--skip-series)", targets)
            return
        try:
            self._need_store()
            prefixes = None if not self.args.quick else self.args.series_sample
            seconds, cpu, rows, lines = self._run_series(["JP"], prefixes)
            one = names[0] if prefixes is None else (
                f"series: 1 origin (JP), {lines:,} lines of chapters {','.join(prefixes)} (--quick)")
            self.report.add(one, seconds, "s", targets[0] if prefixes is None else "-",
                            seconds <= 60 if prefixes is None else None, cpu=cpu)
            self.report.note(f"series JP: {rows:,} rows for {lines:,} lines")
            if self.args.series_full:
                seconds, cpu, rows, lines = self._run_series(SERIES_ORIGINS, None)
                self.report.add(names[1], seconds, "s", targets[1], seconds <= 600, cpu=cpu)
            else:
                sample = self.args.series_sample
                seconds, cpu, rows, lines = self._run_series(SERIES_ORIGINS, sample)
                from kg.fast import fast_path
                from kg.series import default_prefixes, lines_under
                from kg.store import LocalStore

                store = LocalStore.open(self.path)
                total = len(lines_under(fast_path(store), default_prefixes(), FIRST_DAY, LAST_DAY))
                store.close()
                scale = total / lines
                self.report.add(f"series: 15 origins, all lines (EXTRAPOLATED from {lines:,} lines "
                                f"of chapters {','.join(sample)}, x{scale:.1f})", seconds * scale, "s",
                                targets[1], seconds * scale <= 600, cpu=cpu * scale)
                self.report.note(f"series 15 origins measured: {seconds:.1f} s wall, {cpu:.1f} s "
                                 f"CPU, {rows:,} rows for {lines:,} lines x 15 origins")
        except Exception as error:  # noqa: BLE001
            done_names = {r.name for r in self.report.rows}
            self.report.fail([n for n in names if n not in done_names], _why(error))
            _log(traceback.format_exc())

    def _run_series(self, origins: list[str], prefixes: list[str] | None):
        from kg.series import SeriesSpec, default_prefixes, plan_series, write_series
        from kg.store import LocalStore

        store = LocalStore.open(self.path)
        spec = SeriesSpec(origins, prefixes or default_prefixes(), FIRST_DAY, LAST_DAY, TODAY)
        _log(f"series: {len(origins)} origin(s), {'all chapters' if prefixes is None else prefixes}")
        cpu = cpu_now()
        start = time.perf_counter()
        plan = plan_series(store, spec)
        with (self.work / "series.csv").open("w", encoding="utf-8", newline="") as out:
            rows = write_series(plan.columns, plan.run(jobs=self.args.series_jobs), "csv", out)
        seconds = time.perf_counter() - start
        store.close()
        return seconds, cpu_now() - cpu, rows, len(plan.lines)

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> None:
        name = "validate: SHACL + checks, whole graph"
        target = "< 60 s"
        if self.args.skip_validate:
            self.report.fail([name], "skipped (--skip-validate)", [target])
            return
        try:
            _log("validating the whole graph (child process)")
            done = subprocess.run([sys.executable, "-c", VALIDATE_CHILD], capture_output=True,
                                  text=True, timeout=self.args.step_timeout, check=False)
            if done.returncode != 0:
                raise RuntimeError(_last_line(done.stderr) or f"exit {done.returncode}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            self.report.add(name, result["seconds"], "s", target, result["seconds"] < 60,
                            cpu=result["cpu"])
            self.report.note(
                f"validation: {result['triples']:,} triples, conforms={result['conforms']}, "
                f"{result['violations']} violations, {result['warnings']} warnings, "
                f"peak memory {result['maxrss_kib'] / 1024:,.0f} MiB")
        except subprocess.TimeoutExpired:
            self.report.fail([name], f"FAILED: over {self.args.step_timeout:g} s, stopped", [target])
        except Exception as error:  # noqa: BLE001
            self.report.fail([name], _why(error), [target])
            _log(traceback.format_exc())

    # -- load into an Oxigraph server as it ships ---------------------------------------------
    def load(self) -> None:
        names = ["load: whole graph into Oxigraph (as it ships)",
                 "duty over the endpoint = embedded answer"]
        if self.args.skip_load:
            self.report.fail(names, "skipped (--skip-load)", ["<= 30 s", ""])
            return
        server = None
        try:
            import pyoxigraph as ox

            from kg.duty import duty_answer
            from kg.load import load
            from kg.store import LocalStore, RemoteEndpoint

            self._need_store()
            port = _free_port()
            command = [_program("oxigraph"), "serve", "--location", str(self.work / "oxigraph"),
                       "--bind", f"127.0.0.1:{port}"]
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            url = f"http://127.0.0.1:{port}/query"
            _wait_for(server, url)
            source = ox.Store.read_only(str(self.path))
            graphs = {g.value: source.quads_for_pattern(None, None, None, g)
                      for g in source.named_graphs()}
            _log(f"loading {len(source):,} quads into oxigraph serve on port {port}")
            cpu = time.process_time()
            start = time.perf_counter()
            counts = load(url, graphs)
            seconds = time.perf_counter() - start
            self.report.add(names[0], seconds, "s", "<= 30 s", seconds <= 30,
                            cpu=time.process_time() - cpu)
            self.report.note(f"load: {sum(counts.values()):,} triples in {len(counts)} graphs; "
                             "CPU is this process's (the server's is not counted)")
            del source
            question = ("8703.23.01", "JP", date(2025, 9, 20), date(2025, 9, 20))
            remote = _comparable(duty_answer(RemoteEndpoint(url), *question))
            store = LocalStore.open(self.path)
            local = _comparable(duty_answer(store, *question))
            store.close()
            self.report.add(names[1], "equal" if remote == local else "DIFFERENT", "", "equal",
                            remote == local)
        except Exception as error:  # noqa: BLE001
            done_names = {r.name for r in self.report.rows}
            self.report.fail([n for n in names if n not in done_names], _why(error))
            _log(traceback.format_exc())
        finally:
            if server is not None and server.poll() is None:
                server.kill()
                server.wait(timeout=10)

    # -- cold start -------------------------------------------------------------------------
    def cold_start(self) -> None:
        name = "cold start: tariffkg duty (new process, median of 5)"
        target = "< 1.5 s"
        try:
            self._need_store()
            # this checkout's code, whatever the installed tariffkg points at
            program = [sys.executable, "-c",
                       "import sys; from kg.cli import main; sys.argv[0] = 'tariffkg'; main()"]
            checkout = str(Path(__file__).resolve().parent.parent)
            env = dict(os.environ, TARIFFKG_HOME=str(self.root),
                       PYTHONPATH=os.pathsep.join(filter(None, [checkout,
                                                                os.environ.get("PYTHONPATH")])))
            times = []
            _log("cold starts of tariffkg duty")
            for _ in range(5):
                start = time.perf_counter()
                done = subprocess.run([*program, *COLD_COMMAND], env=env, capture_output=True,
                                      text=True, timeout=120, check=False)
                times.append(time.perf_counter() - start)
                if done.returncode != 0 or "TOTAL" not in done.stdout:
                    raise RuntimeError(f"exit {done.returncode}: {_last_line(done.stderr)}")
                if "building the store" in done.stderr:
                    raise RuntimeError("tariffkg rebuilt the store: TARIFFKG_HOME not reused")
            median = statistics.median(times)
            self.report.add(name, median, "s", target, median < 1.5)
            self.report.note("cold start runs: " + ", ".join(f"{t:.2f}" for t in times) + " s")
        except Exception as error:  # noqa: BLE001
            self.report.fail([name], _why(error), [target])
            _log(traceback.format_exc())

    def _need_store(self) -> None:
        if self.path is None:
            raise RuntimeError("no store (the build failed)")

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


def _comparable(answer) -> dict:
    """An answer with its lists in a fixed order (SPARQL fixes no row order)."""
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


def _last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _program(name: str) -> str:
    """The console script next to this Python (no pyenv shim), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"the `{name}` program is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(server: subprocess.Popen, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"oxigraph serve exited: {_last_line(server.stderr.read().decode())}")
        try:
            with urllib.request.urlopen(url + "?query=ASK%7B%7D", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise RuntimeError(f"oxigraph serve did not answer in {timeout:g} s")


def _machine() -> str:
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lookups", type=int, help="random duty questions on the fast path "
                        "(default 2000; 200 with --quick)")
    parser.add_argument("--stored-lookups", type=int, help="of these, asked of the stored query "
                        "too (default 100; 5 with --quick)")
    parser.add_argument("--stored-seconds", type=float, default=300,
                        help="stop starting stored-query lookups after this many seconds")
    parser.add_argument("--rdflib-lookups", type=int, help="asked of rdflib (default 10)")
    parser.add_argument("--rdflib-seconds", type=float, default=300,
                        help="stop starting rdflib lookups after this many seconds")
    parser.add_argument("--batch-rows", type=int, help="rows of the batch CSV (default 10000; "
                        "1000 with --quick)")
    parser.add_argument("--series-sample", default="01,30,72,87",
                        help="chapters measured for the 15-origin series (default 01,30,72,87); "
                             "with --quick also for the one-origin series")
    parser.add_argument("--series-full", action="store_true",
                        help="measure the 15-origin series on every line (no extrapolation)")
    parser.add_argument("--series-jobs", type=int, default=None,
                        help="worker processes of the series (default: kg.series's choice)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 200 lookups, 5 stored, 1,000 batch rows, the series on "
                             "the sample chapters (explicit options win)")
    parser.add_argument("--skip-rdflib", action="store_true", help="leave out the rdflib baseline")
    parser.add_argument("--skip-series", action="store_true", help="leave out the series")
    parser.add_argument("--skip-validate", action="store_true", help="leave out SHACL validation")
    parser.add_argument("--skip-load", action="store_true",
                        help="leave out the load into an Oxigraph server")
    parser.add_argument("--store-root", type=Path,
                        help="use (or build) the store under this root instead of a fresh "
                             "temporary one; a complete store there is reused and not timed")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the lookups (default 0)")
    parser.add_argument("--step-timeout", type=float, default=900,
                        help="seconds before the build or validation child is stopped (default 900)")
    args = parser.parse_args(argv)
    defaults = {"lookups": (2000, 200), "stored_lookups": (100, 5), "rdflib_lookups": (10, 1),
                "batch_rows": (10_000, 1000)}
    for key, (full, smoke) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, smoke if args.quick else full)
    args.series_sample = [c.strip() for c in args.series_sample.split(",") if c.strip()]
    if args.lookups < 1 or args.batch_rows < 1 or args.stored_lookups < 1:
        parser.error("--lookups, --stored-lookups and --batch-rows must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    began = time.perf_counter()
    machine_start = _machine()
    try:
        bench.build()
        bench.duty()
        bench.duty_rdflib()
        bench.batch()
        bench.series()
        bench.validate()
        bench.load()
        bench.cold_start()
    finally:
        bench.cleanup()
        report = bench.report
        report.add("benchmark wall time", time.perf_counter() - began, "s")
        report.note(f"machine at start: {machine_start}; at end: {_machine()}")
        report.note(f"duty questions: random 8-digit lines of chapters 1-97, {len(bench.origins)} "
                    f"origins, entry days {FIRST_DAY}..{LAST_DAY}, as known on the entry day "
                    f"(40%), {TODAY} (20%) or a day between (40%), seed {args.seed}")
        print(report.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
