"""The `tariffkg` command line.

Exit codes: 0 success (or the data conforms), 1 validation found violations, 2 bad input, unreadable
files, an unreachable endpoint or any other error. Results go to stdout, diagnostics to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.errors import TariffKGError

EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


class TariffKGGroup(click.Group):
    """A click group that turns tariff-kg errors into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors (exit 2) and normal exits: click reports them itself
        except KeyboardInterrupt:
            click.echo("tariffkg: interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            quiet_stdout()  # the reader (| head) has what it wanted: no message, no error
            ctx.exit(0)
        except Exception as error:  # noqa: BLE001 - every error becomes one line (or a traceback)
            if ctx.obj and ctx.obj.get("debug"):
                import traceback

                click.echo(redact_secret(traceback.format_exc()).rstrip(), err=True)
            click.echo(f"tariffkg: error: {redact_secret(one_line(error))}", err=True)
            ctx.exit(EXIT_ERROR)


def quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit cannot raise again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def one_line(error: Exception) -> str:
    """An error as one line: tariff-kg's own messages as they are; files named for OS errors;
    anything else (a bug or a library's surprise) with its type and a pointer to --debug."""
    if isinstance(error, TariffKGError):
        text = str(error)
    elif isinstance(error, OSError) and error.strerror:
        where = f"{error.filename}: " if error.filename else ""
        text = f"{where}{error.strerror}"
    elif isinstance(error, UnicodeDecodeError):
        text = f"cannot decode text as {error.encoding}: {error.reason}"
    else:
        first = (str(error).strip().splitlines() or [""])[0][:300]
        text = f"unexpected {type(error).__name__}: {first} (run tariffkg --debug ... for the traceback)"
    return " ".join(text.split()) or type(error).__name__


def redact_secret(text: str) -> str:
    """The text with every credential (TARIFFKG_PASSWORD, passwords of URLs, their Basic
    headers) replaced by *** where it stands as a whole token (kg.http.redact)."""
    import os

    from kg.http import redact, remember_secret

    remember_secret(os.environ.get("TARIFFKG_PASSWORD"), os.environ.get("TARIFFKG_USER"))
    remember_secret(os.environ.get("TARIFFKG_PASSWORD"))
    return redact(text)


@click.group(cls=TariffKGGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="tariff-kg")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """tariff-kg: what duty applied to a product from an origin on a date, and why."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def remember_in_context(key: str):
    """A click callback keeping an option's value in ctx.meta[key] (commands do not take it)."""

    def callback(ctx: click.Context, param: click.Parameter, value):
        ctx.meta[key] = value
        return value

    return callback


class Seconds(click.ParamType):
    """A finite, positive number of seconds (nan, inf and 0 are refused)."""

    name = "seconds"

    def convert(self, value, param, ctx):
        """The value as float seconds, or a usage error naming the option."""
        from kg.errors import InputError
        from kg.http import check_timeout

        try:
            return check_timeout(float(value), param.opts[0] if param else "--timeout")
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        except InputError as error:
            self.fail(str(error), param, ctx)


SECONDS = Seconds()


def entry_fact_options(command):
    """The options of an entry's facts (--claim, --quota, --content, --loaded), as duty takes them."""
    options = [
        click.option("--claim", help="Preference program claimed, by its special program indicator "
                                     "(KR, S, JP, AU, ...; default: none, the general rate)."),
        click.option("--quota", help="in or over a tariff-rate quota (default: over)."),
        click.option("--content", help="Share of the customs value by metal, in percent, for "
                                       "duties on metal content: steel=40,aluminum=10,copper=25 "
                                       "(default: not given)."),
        click.option("--loaded", help="Day the goods were loaded for shipment, YYYY-MM-DD, for "
                                      "in-transit exceptions (default: not in transit)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command

# ontology, timeline, product lists, HTS (kg.build.graph_quads; a build has no user files), each
# stored rule (kg.derive), the on-disk store (kg.build.write_store)
BUILD_FIXED_STEPS = 5


def build_with_progress(path: Path, force: bool = False) -> Path:
    """Build the store at path with a progress bar on stderr, one step per part of the graph."""
    from kg.build import build_store
    from kg.derive import rule_files

    steps = BUILD_FIXED_STEPS + len(rule_files())
    with click.progressbar(length=steps, label="building the store", file=sys.stderr,
                           show_eta=False) as bar:
        def step_done(label: str, count: int) -> None:
            bar.label = f"built {label} ({count:,} triples)"
            bar.update(1)

        return build_store(path, progress=step_done, force=force)


def ensure_built(store_root: Path | None) -> Path:
    """The store for the current sources, built with a progress bar on first use."""
    from kg.build import is_complete, store_path

    path = store_path(store_root)  # hashes every source file once
    if not is_complete(path):
        click.echo("building the store on first use (once per data version)...", err=True)
        build_with_progress(path)
    return path


@main.command()
@click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to keep the store in (default: the user data directory).")
@click.option("--force", is_flag=True, help="Rebuild even if a store for these sources exists.")
def build(store_root: Path | None, force: bool) -> None:
    """Compile ontology and data (the full HTS included) into the embedded store."""
    from kg.build import store_path

    path = store_path(store_root)
    click.echo(f"building {path}", err=True)
    build_with_progress(path, force=force)
    click.echo(str(path))


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text",
              show_default=True, help="Report format.")
def validate(files: tuple[Path, ...], fmt: str) -> None:
    """Validate the shipped graph, or FILES (Turtle) together with it, against the SHACL shapes."""
    from kg.validate import validate as run_validation

    report = run_validation(list(files))
    click.echo(report.render(fmt))
    sys.exit(0 if report.conforms else EXIT_VIOLATIONS)


def open_backend(endpoint: str | None, store_root: Path | None, timeout: float = 60):
    """The remote endpoint if one is given, else the embedded store (built on first use).

    The user comes from the URL, else from --user (or TARIFFKG_USER); the password from the URL,
    else from TARIFFKG_PASSWORD. --timeout bounds each answer on either.
    """
    import os

    from kg.store import RemoteEndpoint

    meta = click.get_current_context().meta if click.get_current_context(silent=True) else {}
    if endpoint:
        user = meta.get("tariffkg.user") or os.environ.get("TARIFFKG_USER")
        return RemoteEndpoint(endpoint, user, os.environ.get("TARIFFKG_PASSWORD"), timeout)
    return open_local_store(store_root, timeout, bool(meta.get("tariffkg.allow_service")))


def open_local_store(store_root: Path | None, timeout: float | None = None,
                     allow_service: bool = False):
    """The embedded store, built on first use, and rebuilt when it is there but cannot be opened."""
    from kg.errors import StoreError
    from kg.store import LocalStore

    path = ensure_built(store_root)
    try:
        return LocalStore.open(path, timeout, allow_service)
    except StoreError as error:
        click.echo(f"tariffkg: {error}; rebuilding it", err=True)
    build_with_progress(path, force=True)
    return LocalStore.open(path, timeout, allow_service)


_endpoint = click.option("--endpoint", metavar="URL",
                         help="Query a SPARQL endpoint instead of the embedded store.")
_timeout = click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
                        help="Seconds to wait for each answer (embedded store or --endpoint).")
_user = click.option("--user", envvar="TARIFFKG_USER", expose_value=False, metavar="NAME",
                     callback=remember_in_context("tariffkg.user"),
                     help="User name for --endpoint (default: TARIFFKG_USER); the password is "
                          "read from TARIFFKG_PASSWORD.")


def endpoint_option(command):
    """--endpoint URL, --user NAME and --timeout SECONDS."""
    return _endpoint(_user(_timeout(command)))

store_option = click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path),
                            help="Folder of the embedded store (default: the user data directory).")


_strict = click.option("--strict", is_flag=True,
                       help="Exit 2 (after printing the answer) when the answer is incomplete: the "
                            "graph lacks part of the law for it.")
_data = click.option("--data", "data_files", multiple=True, type=click.Path(path_type=Path),
                     help="Your own Turtle file (repeatable) added to the curated timeline for this "
                          "answer: validated first (exit 1 on violations), then derived with it.")


@main.command()
@click.option("--hts", help="HTS code, 8 or 10 digits, dots optional (e.g. 8703.23.01); a heading "
                            "(8703) lists its lines.")
@click.option("--origin", help="Country of origin: ISO code (JP, JPN) or English name (Japan, UK).")
@click.option("--date", "on", help="Date of entry for consumption, YYYY-MM-DD.")
@click.option("--as-known-on", help="Answer with the law as known on this day (default: today); "
                                    "the answer as applied at entry is shown beside it.")
@entry_fact_options
@click.option("--batch", type=click.Path(path_type=Path),
              help="CSV with columns hts,origin,date[,as_known_on,claim,quota,content,loaded]: "
                   "one answer per row.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default=None,
              help="Output format (default: text, or JSON lines with --batch).")
@_strict
@_data
@endpoint_option
@store_option
def duty(hts, origin, on, as_known_on, claim, quota, content, loaded, batch, fmt, strict, data_files,
         endpoint, timeout, store_root) -> None:
    """What duty applied to a product from an origin on a date, with every part cited."""
    from kg.batch import BatchFile, answer_batch, check_format
    from kg.duty import HeadingGiven, check_entry_date, duty_answer, parse_entry_facts
    from kg.errors import InputError
    from kg.inputs import country_code, hts_digits, parse_date, parse_known_on
    from kg.report import render

    if batch:
        given = [name for name, value in (("--hts", hts), ("--origin", origin), ("--date", on),
                                          ("--claim", claim), ("--quota", quota), ("--content", content),
                                          ("--loaded", loaded)) if value]
        if given:
            raise InputError(f"--batch takes the questions from the file: leave out {', '.join(given)}")
        source = BatchFile(batch)  # not /dev/zero, a FIFO or too big; its header: before any output
        known = parse_known_on(as_known_on)
        backend = open_answer_backend(endpoint, store_root, timeout, data_files)
        failures, incomplete = answer_batch(backend, source, check_format(fmt), click.echo, known,
                                            width=terminal_width())
        if strict and incomplete and not failures:
            click.echo(f"tariffkg: incomplete: {incomplete} answer(s) of the batch lack part of the law "
                       "(see their coverage)", err=True)
        sys.exit(EXIT_ERROR if failures or (strict and incomplete) else 0)
    missing = [name for name, value in (("--hts", hts), ("--origin", origin), ("--date", on)) if not value]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --batch FILE)")
    entry_date = parse_date(on, "--date")
    check_entry_date(entry_date)
    known_on = parse_known_on(as_known_on)
    hts_digits(hts, "--hts")
    country_code(origin)
    facts = parse_entry_facts(claim, quota, content, loaded)
    backend = open_answer_backend(endpoint, store_root, timeout, data_files)
    try:
        answer = duty_answer(backend, hts, origin, entry_date, known_on, facts)
    except HeadingGiven as heading:
        click.echo(render_lines(heading, fmt or "text"))
        return
    click.echo(render(answer, fmt or "text", terminal_width()))
    if strict and not answer.coverage.complete:
        click.echo("tariffkg: incomplete: " + "; ".join(answer.coverage.missing), err=True)
        sys.exit(EXIT_ERROR)


def terminal_width() -> int | None:
    """The width to fit text tables to: the terminal's, or none when output is not a terminal
    (unless COLUMNS is set)."""
    import os

    from kg.tables import terminal_width as width

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return width()
    return None


def render_lines(heading, fmt: str) -> str:
    """The lines of a heading asked for, as a table, JSON or CSV."""
    import json

    from kg.tables import text_table

    if fmt == "json":
        return json.dumps({"hts": heading.code, "date": heading.on.isoformat(), "lines": heading.lines},
                          indent=2, ensure_ascii=False)
    rows = [[line["hts"], line["description"] or ""] for line in heading.lines]
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([["hts", "description"], *rows])
        return out.getvalue().rstrip("\n")
    kind = "heading" if len(heading.code) == 4 else "subheading"
    return (f"{heading.code} is a {kind}: its lines on {heading.on} (ask for one with --hts):\n"
            + text_table(["hts", "description"], rows, terminal_width()).rstrip())


def open_answer_backend(endpoint: str | None, store_root: Path | None, timeout: float,
                        data_files: tuple[Path, ...] = ()):
    """The backend to answer from: with --data, a store of the graph plus the user's files."""
    if not data_files:
        return open_backend(endpoint, store_root, timeout)
    from kg.errors import InputError

    if endpoint:
        raise InputError("--data adds your files to the embedded store: leave out --endpoint")
    from kg.userdata import open_user_store

    store, report = open_user_store(list(data_files), store_root,
                                    progress=lambda text: click.echo(text, err=True), timeout=timeout)
    if store is None:
        click.echo(report.render("text"))
        click.echo(f"tariffkg: your files add {report.count('Violation')} violation(s) on the nodes "
                   "they describe: nothing was answered", err=True)
        sys.exit(EXIT_VIOLATIONS)
    return store


@main.command()
@click.argument("name", required=False)
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A query parameter (repeatable), e.g. -p origin=JP -p date=2025-05-01.")
@click.option("--file", "query_file", type=click.Path(path_type=Path), help="Run your own query file.")
@click.option("--list", "list_queries", is_flag=True, help="List the stored queries and their parameters.")
@click.option("--show", is_flag=True, help="Print the query as it runs (definitions included, "
                                           "parameters written in) instead of running it.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--allow-service", is_flag=True, expose_value=False,
              callback=remember_in_context("tariffkg.allow_service"),
              help="Let the embedded store run SERVICE clauses (requests to other servers).")
@endpoint_option
@store_option
def query(name, params, query_file, list_queries, show, fmt, endpoint, timeout, store_root) -> None:
    """Run a stored SPARQL query (or your own with --file) with parameters bound as RDF terms."""
    from kg.errors import InputError, StoreError
    from kg.queries import query_from_file, stored_queries, stored_query
    from kg.tables import render_rows

    if list_queries:
        for stored in stored_queries().values():
            params_text = " ".join(f"{p.name}=<{p.kind}>" + (f"[{p.default}]" if p.default else "")
                                   for p in stored.parameters)
            click.echo(f"{stored.name}  {params_text}\n    {stored.description}")
        return
    if bool(name) == bool(query_file):
        raise InputError("give a stored query NAME or --file FILE (see --list)")
    stored = query_from_file(query_file) if query_file else stored_query(name)
    values = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"-p {item!r}: write parameters as KEY=VALUE")
        name = key.strip().lstrip("?")
        if name in values:
            raise InputError(f"-p {name} is given twice: give each parameter once")
        values[name] = value
    if show:
        click.echo(stored.bound_text(values) if values or not query_file else stored.text)
        return
    try:
        if query_file:
            backend = open_backend(endpoint, store_root, timeout)
            if hasattr(backend, "require_graph"):
                backend.require_graph = False  # a query of your own may ask any server
            rows = backend.select(stored.text, stored.bind(values))
        else:
            rows = open_backend(endpoint, store_root, timeout).select(stored.bound_text(values), {})
    except (InputError, StoreError) as error:
        raise type(error)(f"{query_file}: {error}" if query_file else str(error)) from None
    click.echo(render_rows(rows, fmt), nl=False)


@main.command("load")
@click.option("--endpoint", required=True,
              help="SPARQL query endpoint URL of the server (may hold user:password@).")
@click.option("--graph", "graph_iri", help="Load everything into this one named graph instead.")
@click.option("--user", envvar="TARIFFKG_USER",
              help="User name (default: TARIFFKG_USER); the password is read from TARIFFKG_PASSWORD.")
@click.option("--store-endpoint", help="Graph Store Protocol URL (default: derived from --endpoint).")
@click.option("--update-endpoint", help="SPARQL Update URL (default: derived from --endpoint).")
@click.option("--timeout", type=SECONDS, default=120.0, show_default=True,
              help="Seconds to wait for each request, its retries included.")
@click.option("--store", "store_root", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the embedded store to load from (built if needed).")
def load_command(endpoint: str, graph_iri: str | None, user: str | None, store_endpoint: str | None,
                 update_endpoint: str | None, timeout: float, store_root: Path | None) -> None:
    """Replace the named graphs of a SPARQL server (ontology, timeline, derived, HTS) with the graph.

    The previous graphs stay as they were unless the whole load succeeds.
    """
    import pyoxigraph as ox

    from kg.load import check_graph_iri, connect, load
    from kg.namespaces import GRAPH_DERIVED, GRAPH_HTS, GRAPH_ONTOLOGY, GRAPH_TIMELINE

    if graph_iri:
        check_graph_iri(graph_iri)
    stop_on_sigterm()  # so that a stopped load still drops its temporary graphs
    client, _ = connect(endpoint, user, None, store_endpoint, update_endpoint, timeout=timeout)
    client.close()  # the server answers: fail fast before building anything
    store = ox.Store.read_only(str(ensure_built(store_root)))
    present = {graph.value for graph in store.named_graphs()}
    order = [GRAPH_ONTOLOGY, GRAPH_TIMELINE, GRAPH_DERIVED, GRAPH_HTS]
    names = [name for name in order if name in present] + sorted(present - set(order))
    if graph_iri:
        graphs = {graph_iri: store.quads_for_pattern(None, None, None, None)}
    else:
        graphs = {name: store.quads_for_pattern(None, None, None, ox.NamedNode(name)) for name in names}
    with click.progressbar(length=len(store), label="loading", file=sys.stderr,
                           show_eta=False) as bar:
        def step(count: int) -> None:
            bar.label = f"loading ({bar.pos + count:,} triples read)"
            bar.update(count)

        counts = load(endpoint, graphs, user=user, store_endpoint=store_endpoint,
                      update_endpoint=update_endpoint, progress=step, timeout=timeout)
    for name, count in counts.items():
        click.echo(f"{name}\t{count}")


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so that clean-up code runs before the exit."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["turtle", "ntriples", "nquads", "trig", "jsonld"]),
              default="nquads", show_default=True, help="RDF format.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout).")
@click.option("--manifest", "want_manifest", is_flag=True,
              help="Also write the JSON manifest of the sources (version, SHA-256s, HTS revisions): "
                   "beside --out FILE as FILE.manifest.json, or alone on stdout without --out.")
def export_command(fmt: str, out: Path | None, want_manifest: bool) -> None:
    """Write the whole graph deterministically: same sources, same bytes."""
    from kg.export import export_graph, manifest, manifest_json, manifest_path, write_output

    if want_manifest and out is None:
        click.get_binary_stream("stdout").write(manifest_json(manifest()))
        return
    beside = manifest_path(out, fmt) if want_manifest and out is not None else None
    data = export_graph(fmt)
    if out:
        write_output(out, data)
        if beside is not None:
            write_output(beside, manifest_json(manifest()))
            click.echo(f"wrote {out} and its manifest {beside}", err=True)
    else:
        click.get_binary_stream("stdout").write(data)


@main.command()
@click.option("--hts", required=True, help="HTS code, 8 or 10 digits; a heading lists its lines.")
@click.option("--origin", required=True, help="Country of origin: ISO code or English name.")
@click.option("--from", "start", default="2025-01-01", show_default=True,
              help="First entry day, YYYY-MM-DD (not before 2025-01-01, where the data begins).")
@click.option("--to", "end", default=None, help="Last entry day (default: today).")
@click.option("--as-known-on", default=None,
              help="Answer every day as known on this day (default: each day as the law was known "
                   "that day, i.e. as applied).")
@entry_fact_options
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the steps to FILE.svg or FILE.png, numbered and keyed by their acts, "
                   "with negotiations and court rulings marked.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@_strict
@_data
@endpoint_option
@store_option
def timeline(hts, origin, start, end, as_known_on, claim, quota, content, loaded, chart, fmt, strict,
             data_files, endpoint, timeout, store_root) -> None:
    """The duty on a product from an origin as a step function over time, each change explained."""
    import json
    from datetime import date

    from kg import timeline as timeline_module
    from kg.duty import HeadingGiven, check_entry_date, parse_entry_facts
    from kg.inputs import country_code, hts_digits, parse_date, parse_known_on

    first = parse_date(start, "--from")
    check_entry_date(first, "--from")
    last = parse_date(end, "--to") if end else date.today()
    known = parse_known_on(as_known_on) if as_known_on is not None else None
    hts_digits(hts, "--hts")
    country_code(origin)
    facts = parse_entry_facts(claim, quota, content, loaded)
    backend = open_answer_backend(endpoint, store_root, timeout, data_files)
    try:
        result = timeline_module.duty_steps(backend, hts, origin, first, last, known, facts)
    except HeadingGiven as heading:
        click.echo(render_lines(heading, fmt))
        return
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(timeline_module.render_steps(result, terminal_width()))
    if chart:
        view = f"as known on {known}" if known else "as applied"
        title = f"Duty on {result.hts} from {result.origin} ({view})"
        timeline_module.chart(result, timeline_module.events_for(backend, origin, known), chart, title)
        click.echo(f"chart written to {chart}", err=True)
    if strict and not result.complete:
        click.echo("tariffkg: incomplete: " + "; ".join(result.missing), err=True)
        sys.exit(EXIT_ERROR)


@main.command()
@click.option("--from", "first", required=True, help="First entry day, YYYY-MM-DD.")
@click.option("--to", "second", required=True, help="Second entry day, YYYY-MM-DD.")
@click.option("--origin", default="JP", show_default=True, help="Country of origin.")
@click.option("--hts", default=None, help="Compare the duty on this product instead of all measures.")
@click.option("--as-known-on", default=None, help="Law as known on this day (default: today).")
@entry_fact_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@_strict
@_data
@endpoint_option
@store_option
def diff(first, second, origin, hts, as_known_on, claim, quota, content, loaded, fmt, strict,
         data_files, endpoint, timeout, store_root) -> None:
    """Measures that started, ended, changed rate or were suspended between two days; with --hts
    the parts of the duty on that product, both days answered with the entry's facts."""
    import json

    from kg import timeline as timeline_module
    from kg.duty import check_entry_date, parse_entry_facts
    from kg.errors import InputError
    from kg.inputs import country_code, hts_digits, parse_date, parse_known_on

    given = [name for name, value in (("--claim", claim), ("--quota", quota),
                                      ("--content", content), ("--loaded", loaded)) if value]
    if given and not hts:
        raise InputError(f"{', '.join(given)}: facts of one product's entry; give --hts with them "
                         "(the measures in force are the origin's, for any goods)")
    d1, d2 = parse_date(first, "--from"), parse_date(second, "--to")
    check_entry_date(d1, "--from")
    check_entry_date(d2, "--to")
    known = parse_known_on(as_known_on)
    country_code(origin)
    facts = None
    if hts:
        hts_digits(hts, "--hts")
        facts = parse_entry_facts(claim, quota, content, loaded)
    backend = open_answer_backend(endpoint, store_root, timeout, data_files)
    result = timeline_module.diff(backend, origin, d1, d2, known, hts, facts)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(timeline_module.render_diff(result, terminal_width()))
    if strict and not result.complete:
        click.echo("tariffkg: incomplete: " + "; ".join(result.missing), err=True)
        sys.exit(EXIT_ERROR)


@main.command()
@click.option("--origin", "origins", required=True, metavar="CODE[,CODE...]",
              help="Countries of origin: ISO codes or English names, comma-separated.")
@click.option("--hts", "prefixes", multiple=True, metavar="PREFIX",
              help="HTS chapters, headings, subheadings or lines to cover (repeatable, or "
                   "comma-separated; default: chapters 01-97).")
@click.option("--from", "start", default="2025-01-01", show_default=True,
              help="First entry day, YYYY-MM-DD.")
@click.option("--to", "end", default=None, help="Last entry day (default: today).")
@click.option("--as-known-on", default=None,
              help="The law as known on this day (default: today), or 'entry' for the law as "
                   "applied at the time (as known on each entry day).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="CSV with a header, or JSON Lines (one object per row).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: stdout); written under a temporary name, then renamed.")
@click.option("--jobs", type=click.IntRange(min=1, max=64), default=None,
              help="Worker processes (default: one per CPU, at most 4, for large series).")
@endpoint_option
@store_option
def series(origins, prefixes, start, end, as_known_on, fmt, output, jobs, endpoint, timeout,
           store_root) -> None:
    """The duty on every HTS line from origins over a period: one row per period of constant duty."""
    from datetime import date

    from kg.errors import InputError
    from kg.inputs import country_code, parse_date, parse_known_on
    from kg.series import ENTRY, SeriesSpec, default_prefixes, hts_prefix, plan_series, write_series

    codes = []
    for part in origins.split(","):
        if part.strip():
            code = country_code(part)
            if code not in codes:
                codes.append(code)
    if not codes:
        raise InputError("--origin: give at least one country")
    wanted = [hts_prefix(p) for given in prefixes for p in given.split(",") if p.strip()]
    first = parse_date(start, "--from")
    last = parse_date(end, "--to") if end else date.today()
    known = None if (as_known_on or "").strip().lower() == ENTRY else parse_known_on(as_known_on)
    spec = SeriesSpec(codes, wanted or default_prefixes(), first, last, known)
    plan = plan_series(open_backend(endpoint, store_root, timeout), spec)
    label = f"{len(plan.lines):,} lines x {len(codes)} origin{'s' if len(codes) > 1 else ''}"
    with click.progressbar(length=len(plan.lines), label=label, file=sys.stderr) as bar:
        rows = plan.run(progress=bar.update, jobs=jobs)
        if output is None:
            count = write_series(plan.columns, rows, fmt, click.get_text_stream("stdout"))
        else:
            count = _write_atomically(output, lambda out: write_series(plan.columns, rows, fmt, out))
    click.echo(f"{count:,} rows" + (f" written to {output}" if output else ""), err=True)


def _write_atomically(path: Path, write) -> int:
    """Write a text file under a temporary name in its folder, then rename it into place."""
    import os
    import tempfile

    from kg.errors import InputError

    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as error:
        raise InputError(f"--output {path}: cannot write there: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            count = write(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default is reachable from this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port to listen on.")
@click.option("--query-timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="Seconds a query of the /sparql endpoint may run.")
@endpoint_option
@store_option
def serve(host: str, port: int, query_timeout: float, endpoint, timeout, store_root) -> None:
    """Serve the web page, the JSON API and a read-only SPARQL endpoint over the graph."""
    from kg.errors import InputError

    try:
        import uvicorn

        from kg.web.app import create_app
    except ImportError as error:
        raise InputError(f"serve needs the web extra ({error.name} is missing): "
                         "pip install 'tariff-kg[web]'") from None
    from kg.store import LocalStore
    from kg.web.pool import local_pool

    backend = open_backend(endpoint, store_root, timeout)
    if isinstance(backend, LocalStore) and backend.path:
        # Requests are answered in threads; a store's query worker takes one query at a time.
        backend = local_pool(backend, 2, timeout)
    app = create_app(backend, getattr(backend, "path", None), query_timeout)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"note: listening on {host}: other machines can reach this server", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"tariff-kg serving on http://{shown}:{port}/ (Ctrl-C stops it)", err=True)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           timeout_graceful_shutdown=5))
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind, after logging why
        raise InputError(f"cannot listen on {host}:{port}: the port is taken or the address is "
                         "not one of this machine") from None
