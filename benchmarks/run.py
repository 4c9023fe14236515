"""Benchmark tariff-kg on the full graph (all HTS revisions plus the curated timeline) in one run.

    python benchmarks/run.py [--lookups 1000] [--batch-rows 10000] [--skip-validate] [--skip-load]
    python benchmarks/run.py --quick          # smoke run: 100 lookups, 1,000 batch rows

Prints one table (name | value | unit | target | met?) on stdout; progress goes to stderr. Every
step is measured in this run on this machine, including the rdflib baseline; a step that fails
or is skipped still gets its row, saying why. Nothing is extrapolated: a bounded step reports the
count it measured.

Steps:
  build       kg.build.build_store into a fresh temporary store root, in a child process (so its
              peak memory, ru_maxrss, is the build's alone); then the quad count of the store.
  duty        the stored query queries/duty_on_date.rq, parameters bound with
              kg.store.bind_parameters, over random product x origin x date x as-known-on lookups
              (8-digit HTS lines of chapters 1-97 present in the graph; dates 2025-01-01 to
              2026-11-25; as-known-on between the date and 2026-11-25), on the embedded store
              (LocalStore.open, one warm-up lookup first) and on rdflib's in-memory Dataset (default
              graph = union) loaded from the same quads, running the same bound query text. The
              rdflib part is bounded (--rdflib-lookups, --rdflib-seconds); its p50 is compared with
              the embedded p50 over the same lookups. The applied measures of both engines are
              compared for the first 20 lookups.
  batch       kg.duty.answer_batch over a CSV of --batch-rows random questions (CSV output);
              stopped after --batch-seconds (never before the target time has passed, so a
              stopped batch has missed its target for sure), reporting the rows it answered.
  validate    kg.validate.validate([]) in a child process (whole graph: SHACL plus checks).
  load        kg.load.load of the three named graphs into an Oxigraph server started here
              (`oxigraph serve` on 127.0.0.1, a temporary --location).
  cold start  `tariffkg duty --hts 8703.23.01 --origin JP --date 2025-05-01` in a new process,
              TARIFFKG_HOME pointing at the store root built above; median of 5.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import random
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
LAST_DAY = date(2026, 11, 25)
ORIGINS = ["JP", "CN", "DE", "US", "CA", "MX", "KR", "VN", "IN", "BR", "GB", "CH", "FR", "TW"]
COLD_COMMAND = ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"]
COMPARED_LOOKUPS = 20

BUILD_CHILD = """
import json, resource, sys, time
from pathlib import Path
from kg.build import build_store
start = time.perf_counter()
build_store(Path(sys.argv[1]))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

VALIDATE_CHILD = """
import json, resource, time
from kg.validate import validate
start = time.perf_counter()
report = validate([])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "triples": report.triples, "conforms": report.conforms,
                  "violations": report.count("Violation"), "warnings": report.count("Warning"),
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    value: str
    unit: str = ""
    target: str = ""
    met: str = ""


class Report:
    """The rows of the table and the notes printed under it."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.notes: list[str] = []

    def add(self, name: str, value, unit: str = "", target: str = "", met: bool | None = None) -> None:
        shown = value if isinstance(value, str) else _number(value)
        self.rows.append(Row(name, shown, unit, target or "-",
                             "-" if met is None else ("yes" if met else "NO")))

    def fail(self, names: list[str], why: str, targets: list[str] | None = None) -> None:
        """Rows for steps that did not produce a number, saying why."""
        for index, name in enumerate(names):
            target = targets[index] if targets else ""
            self.rows.append(Row(name, why, "", target or "-", "n/a"))

    def note(self, text: str) -> None:
        self.notes.append(text)
        _log(f"note: {text}")

    def render(self) -> str:
        header = ["name", "value", "unit", "target", "met?"]
        body = [[r.name, r.value, r.unit, r.target, r.met] for r in self.rows]
        widths = [max(len(h), *(len(line[i]) for line in body)) if body else len(h)
                  for i, h in enumerate(header)]
        lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
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


# ---------------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookup:
    hts: str  # 8 digits
    origin: str  # ISO alpha-2
    on: date
    known_on: date

    def bindings(self) -> dict:
        from rdflib import URIRef

        from kg.inputs import date_term
        from kg.namespaces import country_iri, hts_iri

        return {"product": URIRef(hts_iri(self.hts)), "origin": URIRef(country_iri(self.origin)),
                "date": date_term(self.on), "asKnownOn": date_term(self.known_on)}


def product_lines(store) -> list[str]:
    """The 8-digit HTS lines of chapters 1-97 in the graph (any revision), as digits, sorted."""
    rows = store.select(
        "PREFIX tkg: <https://w3id.org/tariff-kg/ontology#> "
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?notation WHERE { ?code tkg:digits 8 ; skos:notation ?notation }")
    digits = {str(r["notation"]).replace(".", "") for r in rows}
    return sorted(d for d in digits if len(d) == 8 and d.isdigit() and 1 <= int(d[:2]) <= 97)


def random_lookups(rng: random.Random, products: list[str], count: int) -> list[Lookup]:
    span = (LAST_DAY - FIRST_DAY).days
    lookups = []
    for _ in range(count):
        on = FIRST_DAY + timedelta(days=rng.randint(0, span))
        known = on + timedelta(days=rng.randint(0, (LAST_DAY - on).days))
        lookups.append(Lookup(rng.choice(products), rng.choice(ORIGINS), on, known))
    return lookups


def applied(rows) -> frozenset[str]:
    """The measures a duty query's rows mark as applied."""
    return frozenset(str(r["measure"]) for r in rows if str(r.get("status")) == "applied")


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.report = Report()
        self.work = Path(tempfile.mkdtemp(prefix="tariffkg-bench-"))
        self.root: Path | None = None  # store root (TARIFFKG_HOME for the cold start)
        self.path: Path | None = None  # the store folder
        self.lookups: list[Lookup] = []
        self.products: list[str] = []
        self.embedded_ms: list[float] = []
        self.embedded_applied: list[frozenset[str]] = []

    # -- build ------------------------------------------------------------------------------
    def build(self) -> None:
        from kg.build import is_complete, store_path
        from kg.store import LocalStore

        names = ["build embedded store", "triples (quads) in store", "build peak memory (ru_maxrss)"]
        try:
            if self.args.store_root:
                self.root = self.args.store_root.resolve()
            else:
                self.root = self.work / "home"
            self.path = store_path(self.root)
            reused = bool(self.args.store_root) and is_complete(self.path)
            if reused:
                self.report.fail(names[:1], "not timed: reused the store under --store-root")
            else:
                _log(f"building the store into {self.path}")
                done = subprocess.run([sys.executable, "-c", BUILD_CHILD, str(self.path)],
                                      capture_output=True, text=True, timeout=self.args.step_timeout,
                                      check=False)
                if done.returncode != 0:
                    raise RuntimeError(_last_line(done.stderr) or f"exit {done.returncode}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                self.report.add(names[0], result["seconds"], "s")
            store = LocalStore.open(self.path)
            self.report.add(names[1], store.triple_count(), "quads")
            del store
            if reused:
                self.report.fail(names[2:], "not measured (store reused)")
            else:
                self.report.add(names[2], result["maxrss_kib"] / 1024, "MiB")
        except Exception as error:  # noqa: BLE001 - a benchmark row says why
            self.path = None
            self.report.fail([n for n in names if n not in {r.name for r in self.report.rows}],
                             _why(error))
            _log(traceback.format_exc())

    # -- duty query: embedded ---------------------------------------------------------------
    def duty_embedded(self) -> None:
        from kg.queries import stored_query
        from kg.store import LocalStore

        target = "< 5 ms"
        names = ["duty p50, embedded pyoxigraph", "duty p95, embedded pyoxigraph"]
        try:
            self._need_store()
            store = LocalStore.open(self.path)
            self.products = product_lines(store)
            rng = random.Random(self.args.seed)
            self.lookups = random_lookups(rng, self.products, self.args.lookups)
            text = stored_query("duty_on_date").text
            store.select(text, self.lookups[0].bindings())  # warm-up, not counted
            _log(f"{len(self.lookups)} duty lookups on the embedded store "
                 f"({len(self.products):,} candidate HTS lines)")
            for lookup in self.lookups:
                bindings = lookup.bindings()
                start = time.perf_counter()
                rows = store.select(text, bindings)
                self.embedded_ms.append((time.perf_counter() - start) * 1000)
                if len(self.embedded_applied) < COMPARED_LOOKUPS:
                    self.embedded_applied.append(applied(rows))
            p50 = percentile(self.embedded_ms, 0.50)
            p95 = percentile(self.embedded_ms, 0.95)
            n = len(self.embedded_ms)
            self.report.add(f"{names[0]} (n={n})", p50, "ms", target, p50 < 5)
            self.report.add(f"{names[1]} (n={n})", p95, "ms")
        except Exception as error:  # noqa: BLE001
            self.report.fail(names, _why(error), [target, ""])
            _log(traceback.format_exc())

    # -- duty query: rdflib baseline ---------------------------------------------------------
    def duty_rdflib(self) -> None:
        from rdflib import Dataset, URIRef

        from kg.queries import stored_query
        from kg.store import bind_parameters, term_converter

        names = ["rdflib Dataset load (same quads)", "duty p50, rdflib in-memory",
                 "speed-up: rdflib p50 / embedded p50", "engines agree on applied measures"]
        targets = ["", "", ">= 20x", "all compared"]
        try:
            self._need_store()
            if not self.lookups or not self.embedded_ms:
                raise RuntimeError("no embedded lookups to compare with")
            import pyoxigraph

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

            quads = 0

            def converted():
                nonlocal quads
                for quad in pyoxigraph.Store.read_only(str(self.path)):
                    quads += 1
                    yield term(quad.subject), term(quad.predicate), term(quad.object), graph(quad.graph_name)

            dataset.addN(converted())
            self.report.add(names[0], time.perf_counter() - start, "s")
            self.report.note(f"rdflib Dataset loaded {quads:,} quads in {len(graphs)} named graphs")

            text = stored_query("duty_on_date").text
            limit = min(self.args.rdflib_lookups, len(self.lookups))
            budget = self.args.rdflib_seconds
            timings: list[float] = []
            mismatches = 0
            _log(f"rdflib: up to {limit} lookups or {budget:g} s")
            began = time.perf_counter()
            for index, lookup in enumerate(self.lookups[:limit]):
                if time.perf_counter() - began > budget:
                    break
                bound = bind_parameters(text, lookup.bindings())
                start = time.perf_counter()
                rows = [r.asdict() for r in dataset.query(bound)]
                timings.append((time.perf_counter() - start) * 1000)
                if index < len(self.embedded_applied):
                    mine = applied(rows)
                    theirs = self.embedded_applied[index]
                    if mine != theirs:
                        mismatches += 1
                        line = (f"MISMATCH lookup {index} ({lookup.hts} {lookup.origin} "
                                f"{lookup.on} known {lookup.known_on}): embedded only "
                                f"{sorted(theirs - mine)}, rdflib only {sorted(mine - theirs)}")
                        print(line, flush=True)
                        self.report.note(line)
            n = len(timings)
            if not n:
                raise RuntimeError("no rdflib lookup finished")
            rdflib_p50 = percentile(timings, 0.50)
            same_p50 = percentile(self.embedded_ms[:n], 0.50)
            ratio = rdflib_p50 / same_p50
            compared = min(n, len(self.embedded_applied))
            self.report.add(f"{names[1]} (n={n})", rdflib_p50, "ms")
            self.report.add(f"{names[2]} (same {n} lookups)", f"{ratio:,.0f}x", "", targets[2],
                            ratio >= 20)
            self.report.add(f"{names[3]} (first {compared})", f"{compared - mismatches}/{compared}",
                            "lookups", targets[3], mismatches == 0)
            if n < limit:
                self.report.note(f"rdflib stopped after {n} of {limit} lookups: the {budget:g} s "
                                 "budget ran out (nothing extrapolated)")
            self.report.note(f"speed-up compares medians over the same {n} lookups "
                             f"(embedded p50 there: {same_p50:.1f} ms)")
            graphs.clear()
            dataset = None  # free the rdflib graph before the next steps
            gc.collect()
        except Exception as error:  # noqa: BLE001
            done = {r.name.split(" (")[0] for r in self.report.rows}
            missing = [(n, t) for n, t in zip(names, targets) if n not in done]
            self.report.fail([n for n, _ in missing], _why(error), [t for _, t in missing])
            _log(traceback.format_exc())

    # -- batch ------------------------------------------------------------------------------
    def batch(self) -> None:
        from kg.duty import answer_batch
        from kg.store import LocalStore

        count = self.args.batch_rows
        seconds_target = count / 1000
        name = f"batch: answer_batch, {count:,} rows"
        target = f"< {seconds_target:g} s" + ("" if count == 10_000 else " (10,000 rows < 10 s, scaled)")
        try:
            self._need_store()
            if not self.products:
                raise RuntimeError("no product lines (the duty step failed)")
            rng = random.Random(self.args.seed + 1)
            questions = random_lookups(rng, self.products, count)
            path = self.work / "batch.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["hts", "origin", "date", "as_known_on"])
                for q in questions:
                    writer.writerow([f"{q.hts[:4]}.{q.hts[4:6]}.{q.hts[6:]}", q.origin,
                                     q.on.isoformat(), q.known_on.isoformat()])
            backend = LocalStore.open(self.path)
            lines = 0
            errors: list[str] = []
            budget = max(self.args.batch_seconds, seconds_target)
            start = time.perf_counter()

            def echo(text: str, err: bool = False) -> None:
                nonlocal lines
                if err:
                    errors.append(text)
                else:
                    lines += 1
                if time.perf_counter() - start > budget:
                    raise _OverBudget

            _log(f"batch of {count:,} rows (stopped after {budget:g} s)")
            start = time.perf_counter()
            try:
                failures = answer_batch(backend, path, "csv", echo)
            except _OverBudget:
                seconds = time.perf_counter() - start
                done = lines - 1 + len(errors)  # minus the header line
                self.report.add(name, f"stopped: {done:,} rows in {seconds:.0f} s", "",
                                target, False)
                self.report.add(f"batch throughput ({done:,} rows)", done / seconds, "rows/s",
                                ">= 1,000 rows/s", done / seconds >= 1000)
                self.report.note(f"batch stopped after the {budget:g} s budget (--batch-seconds) "
                                 f"with {done:,} of {count:,} rows answered: the target time had "
                                 "passed, so it is missed whatever the rest would take")
                return
            seconds = time.perf_counter() - start
            self.report.add(name, seconds, "s", target, seconds < seconds_target)
            self.report.add("batch throughput", count / seconds, "rows/s", ">= 1,000 rows/s",
                            count / seconds >= 1000)
            if failures:
                self.report.note(f"batch: {failures} rows failed, e.g. {errors[0]}")
            if lines != count + 1 - failures:
                self.report.note(f"batch: {lines} output lines for {count} rows")
        except Exception as error:  # noqa: BLE001
            self.report.fail([name, "batch throughput"], _why(error), [target, ">= 1,000 rows/s"])
            _log(traceback.format_exc())

    # -- validation -------------------------------------------------------------------------
    def validate(self) -> None:
        name = "SHACL + checks: validate([]), whole graph"
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
            self.report.add(name, result["seconds"], "s", target, result["seconds"] < 60)
            self.report.note(
                f"validation: {result['triples']:,} triples, conforms={result['conforms']}, "
                f"{result['violations']} violations, {result['warnings']} warnings, "
                f"peak memory {result['maxrss_kib'] / 1024:,.0f} MiB")
        except subprocess.TimeoutExpired:
            self.report.fail([name], f"FAILED: over {self.args.step_timeout:g} s, stopped", [target])
        except Exception as error:  # noqa: BLE001
            self.report.fail([name], _why(error), [target])
            _log(traceback.format_exc())

    # -- load into an Oxigraph server --------------------------------------------------------
    def load(self) -> None:
        names = ["load into Oxigraph server (kg.load)", "load throughput"]
        if self.args.skip_load:
            self.report.fail(names, "skipped (--skip-load)")
            return
        server = None
        try:
            import pyoxigraph as ox

            from kg.load import load
            from kg.namespaces import GRAPH_HTS, GRAPH_ONTOLOGY, GRAPH_TIMELINE

            self._need_store()
            program = _program("oxigraph")
            port = _free_port()
            location = self.work / "oxigraph"
            command = [program, "serve", "--location", str(location), "--bind",
                       f"127.0.0.1:{port}", "--union-default-graph"]
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            url = f"http://127.0.0.1:{port}/query"
            _wait_for(server, url)
            store = ox.Store.read_only(str(self.path))
            total = len(store)
            graphs = {name: store.quads_for_pattern(None, None, None, ox.NamedNode(name))
                      for name in (GRAPH_ONTOLOGY, GRAPH_TIMELINE, GRAPH_HTS)}
            _log(f"loading {total:,} quads into oxigraph serve on port {port}")
            start = time.perf_counter()
            counts = load(url, graphs)
            seconds = time.perf_counter() - start
            loaded = sum(counts.values())
            self.report.add(names[0], seconds, "s")
            self.report.add(names[1], loaded / seconds, "triples/s")
            if loaded != total:
                self.report.note(f"load: the server holds {loaded:,} triples of {total:,} quads sent")
        except Exception as error:  # noqa: BLE001
            done = {r.name for r in self.report.rows}
            self.report.fail([n for n in names if n not in done], _why(error))
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
            program = _program("tariffkg")
            env = dict(os.environ, TARIFFKG_HOME=str(self.root))
            times = []
            _log("cold starts of tariffkg duty")
            for _ in range(5):
                start = time.perf_counter()
                done = subprocess.run([program, *COLD_COMMAND], env=env, capture_output=True,
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


class _OverBudget(Exception):
    """Raised from the batch's output callback when its time budget is spent."""


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
    parser.add_argument("--lookups", type=int, help="random duty lookups on the embedded store "
                        "(default 1000; 100 with --quick)")
    parser.add_argument("--batch-rows", type=int, help="rows of the --batch CSV "
                        "(default 10000; 1000 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100 lookups, 1,000 batch rows, rdflib bounded to 2 "
                             "lookups / 20 s, batch to 60 s (explicit options win)")
    parser.add_argument("--rdflib-lookups", type=int,
                        help="at most this many rdflib lookups (default 100; 2 with --quick)")
    parser.add_argument("--rdflib-seconds", type=float,
                        help="stop starting rdflib lookups after this many seconds "
                             "(default 120; 20 with --quick)")
    parser.add_argument("--batch-seconds", type=float,
                        help="stop the batch after this many seconds, reporting the rows answered "
                             "(never less than the target time; default 180, 60 with --quick)")
    parser.add_argument("--skip-validate", action="store_true", help="leave out SHACL validation")
    parser.add_argument("--skip-load", action="store_true",
                        help="leave out the load into an Oxigraph server")
    parser.add_argument("--store-root", type=Path,
                        help="use (or build) the store under this root instead of a fresh "
                             "temporary one; a complete store there is reused and not timed")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the lookups (default 0)")
    parser.add_argument("--step-timeout", type=float, default=600,
                        help="seconds before the build or validation child is stopped (default 600)")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {"lookups": (1000, 100), "batch_rows": (10_000, 1000),
                "rdflib_lookups": (100, 2), "rdflib_seconds": (120.0, 20.0),
                "batch_seconds": (180.0, 60.0)}
    for key, (full, smoke) in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, smoke if quick else full)
    if args.lookups < 1 or args.batch_rows < 1 or args.rdflib_lookups < 1:
        parser.error("--lookups, --batch-rows and --rdflib-lookups must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    began = time.perf_counter()
    machine_start = _machine()
    try:
        bench.build()
        bench.duty_embedded()
        bench.duty_rdflib()
        bench.batch()
        bench.validate()
        bench.load()
        bench.cold_start()
    finally:
        bench.cleanup()
        report = bench.report
        report.add("benchmark wall time", time.perf_counter() - began, "s")
        report.note(f"machine at start: {machine_start}; at end: {_machine()}")
        report.note("duty lookups: random 8-digit HTS lines of chapters 1-97 in the graph, "
                    f"origins {'/'.join(ORIGINS)}, dates {FIRST_DAY}..{LAST_DAY}, "
                    f"as-known-on between the date and {LAST_DAY}, seed {args.seed}")
        print(report.render(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
