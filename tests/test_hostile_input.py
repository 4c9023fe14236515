"""Hostile input: values crafted to break out of a query are unknown input, never SPARQL.

Run against the embedded store and against a real Oxigraph server holding a small graph loaded
with kg.load; afterwards every graph is intact. Updates are refused, and TARIFFKG_PASSWORD never
shows in any output, not even when a hostile server echoes it back.
"""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef

from kg.cli import main
from kg.errors import InputError
from kg.inputs import iri_term, term_for
from kg.load import connect, graph_size, load
from kg.store import RemoteEndpoint, bind_parameters

SECRET = "S3cr3t-pa55word-never-shown"
GRAPH = "https://w3id.org/tariff-kg/graph/hostile-test"

HOSTILE = [
    '8703"} ; DROP ALL ; #',
    "8703> } ; DROP ALL",
    "JP> } ; DROP ALL",
    'JP" } ; DROP ALL ; #',
    "2025-05-01\"^^<x> } ; DROP ALL ; #",
    "<http://example.org/a> } ; DROP ALL ; #",
    "http://example.org/a> } ; DROP ALL ; <http://x",
    "x' ; CLEAR DEFAULT ; '",
    "\\u0022 } DROP ALL #",
    "8703\n} ; DROP ALL",
    "JP\x00",
]

QUERY_PARAMS = [
    ("product", "product"), ("negotiations", "jurisdiction"), ("measures_in_force", "origin"),
    ("measures_in_force", "date"),
]


def invoke(*args: str, home: str | None = None, password: str | None = SECRET):
    env = {"TARIFFKG_PASSWORD": password, "TARIFFKG_USER": "tkg"}
    if home:
        env["TARIFFKG_HOME"] = home
    return CliRunner().invoke(main, list(args), env=env)


def refused(result) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and SECRET not in result.output
    assert result.stderr.startswith("tariffkg: error:")


# --- the terms themselves -----------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("kind", ["hts", "country", "date", "iri"])
def test_hostile_values_are_refused_as_terms(kind, text):
    with pytest.raises(InputError):
        term_for(kind, text, "p")


@pytest.mark.parametrize("text", ["http://example.org/a>b", "<http://example.org/a>b>",
                                  "http://example.org/a b", "http://ex.org/{x}", 'http://e.org/"'])
def test_iri_with_forbidden_characters_is_refused(text):
    with pytest.raises(InputError):
        iri_term(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_string_parameter_is_one_escaped_literal(text):
    query = "SELECT ?v WHERE { VALUES (?v) { (UNDEF) } }"
    bound = bind_parameters(query, {"v": term_for("string", text, "v")})
    assert bound.count("VALUES") == 1 and "DROP ALL ;" not in bound.replace(Literal(text).n3(), "")


# --- the embedded store -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(shipped_store_root):
    return str(shipped_store_root)


def test_hostile_values_against_the_embedded_store(home, shipped_store):
    before = shipped_store.triple_count()
    for text in HOSTILE:
        refused(invoke("duty", "--hts", text, "--origin", "JP", "--date", "2025-05-01", home=home))
        refused(invoke("duty", "--hts", "8703.23.01", "--origin", text, "--date", "2025-05-01",
                       home=home))
        refused(invoke("duty", "--hts", "8703.23.01", "--origin", "JP", "--date", text, home=home))
        for name, param in QUERY_PARAMS:
            extra = [] if name != "measures_in_force" else (
                ["-p", "date=2025-05-01"] if param == "origin" else ["-p", "origin=JP"])
            refused(invoke("query", name, "-p", f"{param}={text}", *extra, home=home))
    assert shipped_store.triple_count() == before
    ok = invoke("duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01", home=home)
    assert ok.exit_code == 0 and "TOTAL" in ok.stdout


@pytest.mark.parametrize("text", HOSTILE)
def test_string_literal_round_trips_through_the_embedded_store(mini_store, text):
    before = mini_store.triple_count()
    rows = mini_store.select("SELECT ?v WHERE { VALUES (?v) { (UNDEF) } }", {"v": Literal(text)})
    assert [str(r["v"]) for r in rows] == [text]
    assert mini_store.triple_count() == before


@pytest.mark.parametrize("update", [
    "DROP ALL",
    "INSERT DATA { <http://example.org/a> <http://example.org/b> <http://example.org/c> }",
    "LOAD <http://127.0.0.1:9/evil.ttl>",
    "CLEAR DEFAULT",
    "PREFIX ex: <http://example.org/>\nDELETE WHERE { ?s ?p ?o }",
])
def test_query_file_with_an_update_is_refused(home, tmp_path, update):
    path = tmp_path / "evil.rq"
    path.write_text(update)
    result = invoke("query", "--file", str(path), home=home)
    refused(result)
    assert str(path) in result.stderr and "update" in result.stderr


def test_embedded_store_runs_no_update_even_when_asked_directly(mini_store):
    before = mini_store.triple_count()
    with pytest.raises(InputError):
        mini_store.select("DROP ALL")
    assert mini_store.triple_count() == before


# --- the real Oxigraph server ------------------------------------------------------------------


SMALL = [
    (f"<https://w3id.org/tariff-kg/id/test/{i}> <http://www.w3.org/2000/01/rdf-schema#label> "
     f'"thing {i}" .')
    for i in range(20)
]


@pytest.fixture()
def loaded_server(oxigraph_server):
    import pyoxigraph as ox

    triples = list(ox.parse(input="\n".join(SMALL).encode(), format=ox.RdfFormat.N_TRIPLES))
    assert load(oxigraph_server, {GRAPH: triples}, password="") == {GRAPH: 20}
    return oxigraph_server


def total_size(url: str) -> int:
    client, endpoints = connect(url, password="")
    rows = client.select(endpoints.query, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(rows[0]["n"]["value"])


@pytest.mark.server
def test_hostile_values_against_the_oxigraph_server(loaded_server, tmp_path, monkeypatch):
    monkeypatch.delenv("TARIFFKG_USER", raising=False)
    before = total_size(loaded_server)
    for text in HOSTILE:
        for args in (
            ["duty", "--hts", text, "--origin", "JP", "--date", "2025-05-01"],
            ["duty", "--hts", "8703.23.01", "--origin", text, "--date", "2025-05-01"],
            ["timeline", "--hts", "8703.23.01", "--origin", text],
            ["diff", "--from", "2025-01-01", "--to", "2025-06-01", "--origin", text],
            ["query", "product", "-p", f"product={text}"],
            ["query", "negotiations", "-p", f"jurisdiction={text}"],
        ):
            refused(invoke(*args, "--endpoint", loaded_server, password=None))
    for update in ("DROP ALL", f"DROP GRAPH <{GRAPH}>", "CLEAR ALL",
                   "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }"):
        path = tmp_path / "evil.rq"
        path.write_text(update)
        refused(invoke("query", "--file", str(path), "--endpoint", loaded_server, password=None))
        with pytest.raises(InputError, match="only SELECT"):
            RemoteEndpoint(loaded_server).select(update)
    endpoint = RemoteEndpoint(loaded_server)
    for text in HOSTILE:
        if "\x00" in text:
            continue
        rows = endpoint.select("SELECT ?v WHERE { VALUES (?v) { (UNDEF) } }", {"v": Literal(text)})
        assert [str(r["v"]) for r in rows] == [text]
    rows = endpoint.select(
        "SELECT ?label WHERE { GRAPH ?g { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } "
        "VALUES (?s) { (UNDEF) } }", {"s": URIRef("https://w3id.org/tariff-kg/id/test/3")})
    assert [str(r["label"]) for r in rows] == ["thing 3"]
    assert total_size(loaded_server) == before
    client, endpoints = connect(loaded_server, password="")
    assert graph_size(client, endpoints, GRAPH) == 20


# --- credentials --------------------------------------------------------------------------------


def echoing(status: int):
    """A hostile server that answers `status` and echoes the credentials it got in the body."""

    def answer(handler, body):
        auth = handler.headers.get("Authorization", "")
        decoded = ""
        if auth.startswith("Basic "):
            decoded = base64.b64decode(auth[6:]).decode("utf-8", "replace")
        text = f"denied for {decoded} ({auth}) body={body[:200]!r}\n".encode()
        return status, {"WWW-Authenticate": 'Basic realm="tkg"', "Content-Type": "text/plain"}, text

    return answer


COMMANDS = [
    ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"],
    ["query", "product", "-p", "product=8703.23.01"],
    ["timeline", "--hts", "8703.23.01", "--origin", "JP", "--from", "2025-01-01", "--to", "2025-02-01"],
    ["diff", "--from", "2025-01-01", "--to", "2025-06-01"],
]


@pytest.mark.parametrize("status", [401, 403, 500])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_password_never_shown_by_query_commands(scripted_server, status, command):
    server = scripted_server(echoing(status))
    result = invoke(*command, "--endpoint", server.url, "--timeout", "5")
    refused(result)
    assert server.url in result.stderr
    assert server.requests, "the command did reach the server"


@pytest.mark.parametrize("status", [401, 403, 500])
def test_password_never_shown_by_load(scripted_server, status):
    server = scripted_server(echoing(status))
    result = CliRunner().invoke(main, ["load", "--endpoint", server.url, "--user", "tkg",
                                       "--timeout", "5"], env={"TARIFFKG_PASSWORD": SECRET})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert SECRET not in result.output
    if status in (401, 403):
        assert "credentials refused" in result.stderr


def test_password_never_shown_when_unreachable(unused_port):
    url = f"http://tkg:{SECRET}@127.0.0.1:{unused_port}/query"
    for args in (COMMANDS[0], ["load", "--user", "tkg"]):
        result = invoke(*args, "--endpoint", url, "--timeout", "2")
        assert result.exit_code == 2 and SECRET not in result.output, result.output
        assert "Traceback" not in result.output


def test_json_answers_never_carry_the_password(scripted_server):
    def answer(handler, body):
        return 200, {"Content-Type": "application/sparql-results+json"}, json.dumps(
            {"head": {"vars": ["x"]}, "results": {"bindings": []}}).encode()

    server = scripted_server(answer)
    result = invoke("query", "product", "-p", "product=8703.23.01", "--endpoint", server.url,
                    "--format", "json")
    assert result.exit_code == 0 and SECRET not in result.output


# --- credentials in URLs (issue 14 items 4 and 5) -------------------------------------------

URL_SECRETS = ["S3cret/x", "pa#ss", "pa?ss", "p@ss/w#r?d", "with space", "ünïcode/☃"]
ALL_COMMANDS = COMMANDS + [["load"]]


def requiring(user: str, password: str):
    """A server that wants Basic credentials user:password and then answers empty results."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def answer(handler, body):
        if handler.headers.get("Authorization") != expected:
            return 401, {"WWW-Authenticate": 'Basic realm="tkg"'}, b"who are you?\n"
        if handler.path.startswith("/update") or handler.path.startswith("/store"):
            return 204, {}, b""
        if b"CONSTRUCT" in body:
            return 200, {"Content-Type": "application/n-triples"}, b""
        return 200, {"Content-Type": "application/sparql-results+json"}, json.dumps(
            {"head": {"vars": ["n"]}, "results": {"bindings": []}}).encode()

    return answer


def with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@")


@pytest.mark.parametrize("password", URL_SECRETS)
def test_user_and_password_in_the_url_work_and_never_show(scripted_server, password):
    from kg.http import forget_secrets

    forget_secrets()
    server = scripted_server(requiring("tkg", password))
    url = with_credentials(server.url, "tkg", password)
    result = invoke("query", "product", "-p", "product=8703.23.01", "--endpoint", url,
                    "--timeout", "5", password=None)
    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert any(r[2].get("Authorization") for r in server.requests)


@pytest.mark.parametrize("password", URL_SECRETS)
@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: c[0])
def test_a_password_in_the_url_never_shows_in_errors(scripted_server, password, command):
    server = scripted_server(echoing(401))
    url = with_credentials(server.url, "tkg", password)
    for debug in ([], ["--debug"]):
        result = CliRunner().invoke(main, [*debug, *command, "--endpoint", url, "--timeout", "5"],
                                    env={"TARIFFKG_PASSWORD": None, "TARIFFKG_USER": None})
        assert result.exit_code == 2, result.output
        assert password not in result.output, result.output
        assert "nonnumeric port" not in result.output
        encoded = base64.b64encode(f"tkg:{password}".encode()).decode()
        assert encoded not in result.output and encoded.rstrip("=") not in result.output


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: c[0])
def test_debug_tracebacks_hide_echoed_credentials(scripted_server, command):
    server = scripted_server(echoing(500))
    result = CliRunner().invoke(main, ["--debug", *command, "--endpoint", server.url,
                                       "--user", "tkg", "--timeout", "3"],
                                env={"TARIFFKG_PASSWORD": SECRET})
    assert result.exit_code == 2 and SECRET not in result.output
    encoded = base64.b64encode(f"tkg:{SECRET}".encode()).decode()
    assert encoded not in result.output


def test_a_one_letter_password_does_not_mangle_messages(home):
    result = CliRunner().invoke(main, ["duty", "--hts", "abc", "--origin", "JP", "--date",
                                       "2025-05-01"],
                                env={"TARIFFKG_HOME": home, "TARIFFKG_PASSWORD": "o"})
    assert result.exit_code == 2
    assert "HTS code" in result.stderr and "***" not in result.stderr


def test_redaction_is_of_whole_tokens():
    from kg.http import forget_secrets, redact, remember_secret

    forget_secrets()
    remember_secret("o", "u")
    assert redact("HTS code of origin o: u:o") == "HTS code of origin ***: ***"
    forget_secrets()


@pytest.mark.parametrize("url, clean, user, password", [
    ("http://u:S3cret/x@127.0.0.1:8/query", "http://127.0.0.1:8/query", "u", "S3cret/x"),
    ("http://u:a#b?c@h/q", "http://h/q", "u", "a#b?c"),
    ("http://u:p@ss@h:1/q", "http://h:1/q", "u", "p@ss"),
    ("http://u%40x:p%2Fq@h/q", "http://h/q", "u@x", "p/q"),
    ("http://u@h/q", "http://h/q", "u", None),
    ("http://h/path@x/q", "http://h/path@x/q", None, None),
    ("https://[::1]:8890/sparql", "https://[::1]:8890/sparql", None, None),
])
def test_credentials_are_split_off_before_anything_else(url, clean, user, password):
    from kg.http import split_credentials

    got, credentials = split_credentials(url)
    assert (got, credentials.user, credentials.password) == (clean, user, password)
    assert password is None or password not in repr(credentials)


def test_every_command_takes_user_the_same_way():
    for name in ("duty", "query", "timeline", "diff", "load"):
        option = next(p for p in main.commands[name].params if p.name == "user")
        assert option.envvar == "TARIFFKG_USER", name


# --- parameters bound only where the code says (issue 14 item 6) -----------------------------

TRICKY_QUERY = '''# tricky: a WHERE { in a comment comes first
#
# Parameters (name, kind, meaning):
#   ?label  string  any text
#
# WHERE { ?x ?y ?z }  <- a comment, not the query's WHERE
SELECT ?v ?note WHERE {
  BIND("WHERE { in a string" AS ?note)
  BIND(?label AS ?v)
}
'''


@pytest.mark.server
@pytest.mark.parametrize("text", ["plain", 'x") } ; DROP ALL ; #', "WHERE { ?s ?p ?o }"])
def test_a_user_query_binds_the_same_on_both_backends(home, loaded_server, tmp_path, text):
    path = tmp_path / "tricky.rq"
    path.write_text(TRICKY_QUERY)
    outputs = []
    for backend in ([], ["--endpoint", loaded_server]):
        result = invoke("query", "--file", str(path), "-p", f"label={text}", "--format", "json",
                        *backend, home=home, password=None)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [r["v"] for r in rows] == [text] and rows[0]["note"] == "WHERE { in a string"
        outputs.append(rows)
    assert outputs[0] == outputs[1]


def test_a_values_row_in_a_string_or_comment_is_not_a_binding_place():
    query = ('SELECT ?v WHERE { # VALUES (?v) { (UNDEF) }\n'
             '  BIND("VALUES (?v) { (UNDEF) }" AS ?s) VALUES (?v) { (UNDEF) } }')
    bound = bind_parameters(query, {"v": Literal('a" } ; DROP ALL ; #')})
    assert bound.count("UNDEF") == 2  # the comment's and the string's rows are untouched
    assert 'VALUES (?v) { ("a\\" } ; DROP ALL ; #") }' in bound


def test_a_query_without_a_where_group_is_refused():
    with pytest.raises(InputError, match="no WHERE group"):
        bind_parameters("SELECT ?v", {"v": Literal("x")})


# --- SERVICE on the embedded store (issue 14 item 7) -----------------------------------------


@pytest.fixture()
def silent_listener():
    """A loopback socket that accepts connections and never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield listener
    listener.close()


def test_service_is_refused_on_the_embedded_store_without_the_flag(home, tmp_path,
                                                                   silent_listener):
    port = silent_listener.getsockname()[1]
    path = tmp_path / "service.rq"
    path.write_text(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    silent_listener.settimeout(0.1)
    result = invoke("query", "--file", str(path), home=home)
    refused(result)
    assert "SERVICE" in result.stderr and "--allow-service" in result.stderr
    with pytest.raises(OSError):
        silent_listener.accept()  # nothing was sent


def test_service_with_the_flag_is_bounded_by_the_timeout(home, tmp_path, silent_listener):
    import time

    port = silent_listener.getsockname()[1]
    path = tmp_path / "service.rq"
    path.write_text(f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}")
    start = time.monotonic()
    result = invoke("query", "--file", str(path), "--allow-service", "--timeout", "2", home=home)
    refused(result)
    assert "within 2 s" in result.stderr and time.monotonic() - start < 15


def test_service_on_an_unbound_variable_is_a_clear_error(home, tmp_path):
    path = tmp_path / "service.rq"
    path.write_text("SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }")
    result = invoke("query", "--file", str(path), "--allow-service", "--timeout", "10", home=home)
    refused(result)
    assert "unexpected" not in result.stderr and "RuntimeError" not in result.stderr


def test_a_service_keyword_in_a_string_or_name_is_not_a_call(home, tmp_path):
    path = tmp_path / "q.rq"
    path.write_text('PREFIX s: <http://schema.org/>\n'
                    'SELECT ?x WHERE { BIND("SERVICE <http://x/>" AS ?x) } # SERVICE\n')
    result = invoke("query", "--file", str(path), "--format", "json", home=home)
    assert result.exit_code == 0, result.output
