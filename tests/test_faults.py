"""Faults: concurrent and killed builds, slow endpoints, transient server errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

import kg.build
from kg.build import (
    BUILDING,
    build_store,
    ensure_store,
    is_complete,
    remove_stale_builds,
    store_path,
)
from kg.cli import main
from kg.errors import EndpointError
from kg.load import load

G = "https://w3id.org/tariff-kg/graph/fault-test"


def tariffkg_process(home: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TARIFFKG_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-c", "from kg.cli import main; main()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            **kwargs)


def building_folders(home: Path) -> list[Path]:
    return sorted(home.glob(f"*{BUILDING}*"))


# --- builds -------------------------------------------------------------------------------------


def test_two_builds_at_once_both_end_with_a_usable_store(tmp_path):
    home = tmp_path / "home"
    first = tariffkg_process(home, "build")
    second = tariffkg_process(home, "build")
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outs
    path = Path(outs[0][0].strip())
    assert Path(outs[1][0].strip()) == path and is_complete(path)
    assert building_folders(home) == []
    process = tariffkg_process(home, "duty", "--hts", "8703.23.01", "--origin", "JP",
                               "--date", "2025-05-01", "--format", "json")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0 and "building" not in err, err  # the store was reused
    assert json.loads(out)["total_ad_valorem_percent"] > 0


def _start_build_and_wait_for_progress(home: Path) -> subprocess.Popen:
    process = tariffkg_process(home, "build", start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        folders = building_folders(home)
        if folders and any(folders[0].iterdir()):
            time.sleep(1.0)  # well into the bulk load
            return process
        time.sleep(0.05)
    process.kill()
    pytest.fail("the build never started writing")


def test_a_build_killed_mid_way_leaves_no_complete_looking_store(tmp_path):
    home = tmp_path / "home"
    process = _start_build_and_wait_for_progress(home)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    path = store_path(home)
    assert not is_complete(path) and not path.exists()
    leftovers = building_folders(home)
    assert leftovers, "SIGKILL leaves the temporary folder behind"
    assert not any(is_complete(folder) for folder in leftovers)
    # the next command detects that there is no store, rebuilds and removes the leftover
    rerun = tariffkg_process(home, "duty", "--hts", "8703.23.01", "--origin", "JP",
                             "--date", "2025-05-01")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "building the store on first use" in err and "TOTAL" in out
    assert is_complete(path) and building_folders(home) == []


def test_a_build_interrupted_with_sigint_cleans_up(tmp_path):
    home = tmp_path / "home"
    process = _start_build_and_wait_for_progress(home)
    os.kill(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not store_path(home).exists() and building_folders(home) == []


# the same rules, fast: a tiny graph instead of the real one


@pytest.fixture()
def tiny_graph(monkeypatch):
    quad = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                   ox.Literal("o"), ox.NamedNode(G))
    monkeypatch.setattr(kg.build, "graph_quads", lambda progress=None, extra_files=(): iter([quad]))


def test_a_folder_without_the_marker_is_rebuilt(tmp_path, tiny_graph):
    path = store_path(tmp_path)
    path.mkdir(parents=True)
    (path / "junk").write_text("half a store")
    assert not is_complete(path)
    assert ensure_store(tmp_path) == path
    assert is_complete(path) and not (path / "junk").exists()


def test_stale_building_folders_are_removed_live_ones_kept(tmp_path, tiny_graph):
    path = store_path(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        stale = tmp_path / f"{path.name}{BUILDING}{dead.pid}-abc"
        odd = tmp_path / f"{path.name}{BUILDING}xyz"  # an old-style name, no owner: stale
        live = tmp_path / f"{path.name}{BUILDING}{sleeper.pid}-def"
        for folder in (stale, odd, live):
            folder.mkdir()
            (folder / "data").write_text("x")
        build_store(path)
        assert is_complete(path)
        assert not stale.exists() and not odd.exists()
        assert live.exists(), "a running build's folder is left alone"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale_builds(path) == [live]


def test_a_build_that_fails_leaves_nothing(tmp_path, monkeypatch):
    def broken(progress=None, extra_files=()):
        yield ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("o"), ox.NamedNode(G))
        raise kg.build.DataError("x.ttl:3: Turtle syntax error")

    monkeypatch.setattr(kg.build, "graph_quads", broken)
    result = CliRunner().invoke(main, ["build", "--store", str(tmp_path)])
    assert result.exit_code == 2 and "x.ttl:3" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- slow endpoints -----------------------------------------------------------------------------


def sleeping(seconds: float):
    def answer(handler, body):
        time.sleep(seconds)
        return 200, {"Content-Type": "application/sparql-results+json"}, b'{"results":{"bindings":[]}}'

    return answer


@pytest.mark.parametrize("command", [
    ["duty", "--hts", "8703.23.01", "--origin", "JP", "--date", "2025-05-01"],
    ["query", "product", "-p", "product=8703.23.01"],
    ["timeline", "--hts", "8703.23.01", "--origin", "JP", "--to", "2025-03-01"],
    ["diff", "--from", "2025-01-01", "--to", "2025-06-01"],
], ids=lambda c: c[0])
def test_a_slow_endpoint_times_out_after_the_configured_time(scripted_server, command):
    server = scripted_server(sleeping(4))
    start = time.monotonic()
    result = CliRunner().invoke(main, [*command, "--endpoint", server.url, "--timeout", "0.5"])
    elapsed = time.monotonic() - start
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip() == f"tariffkg: error: {server.url}: no answer within 0.5 s (--timeout)"
    assert elapsed < 3


def test_timeout_defaults_to_60_seconds():
    for name in ("duty", "query", "timeline", "diff"):
        option = next(p for p in main.commands[name].params if p.name == "timeout")
        assert option.default == 60.0


def test_load_times_out_and_gives_up_after_bounded_retries(scripted_server):
    server = scripted_server(sleeping(3))
    start = time.monotonic()
    with pytest.raises(EndpointError, match=r"no answer within 0\.3 s \(--timeout\)"):
        load(server.url, {G: []}, password="", timeout=0.3, retries=2, backoff=0.05)
    assert len(server.requests) == 1 and time.monotonic() - start < 1.5


def test_the_timeout_bounds_retries_too(scripted_server):
    """Issue 14 item 11: a server that accepts and never answers made load wait ~4x --timeout."""
    server = scripted_server(sleeping(30))
    start = time.monotonic()
    result = CliRunner().invoke(main, ["load", "--endpoint", server.url, "--timeout", "2"])
    elapsed = time.monotonic() - start
    assert result.exit_code == 2, result.output
    assert "no answer within 2 s (--timeout)" in result.stderr
    assert elapsed < 4, elapsed


def test_retries_stop_at_the_deadline_and_say_how_long(scripted_server):
    answer, state = flaky(failures=100)
    server = scripted_server(answer)
    start = time.monotonic()
    with pytest.raises(EndpointError, match=r"HTTP 503: busy \(\d attempts in \d\.\d s\)"):
        load(server.url, {G: three_triples()}, password="", retries=10, backoff=0.4, timeout=2)
    assert time.monotonic() - start < 2.5 and 2 <= state["n"] <= 4


# --- transient server errors --------------------------------------------------------------------


def flaky(failures: int):
    """A minimal SPARQL server answering 503 to its first `failures` requests."""
    state = {"n": 0, "times": []}

    def answer(handler, body):
        state["n"] += 1
        state["times"].append(time.monotonic())
        if state["n"] <= failures:
            return 503, {"Retry-After": "0"}, b"busy\n"
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "query" in form:
            bindings = [{"n": {"type": "literal", "value": "3"}}] if "COUNT" in form["query"][0] else []
            return 200, {"Content-Type": "application/sparql-results+json"}, json.dumps(
                {"head": {"vars": []}, "results": {"bindings": bindings}}).encode()
        return 204, {}, b""

    return answer, state


def three_triples():
    return [ox.Triple(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
                      ox.Literal(str(i))) for i in range(3)]


def test_load_retries_transient_503s_with_back_off(scripted_server):
    answer, state = flaky(failures=2)
    server = scripted_server(answer)
    assert load(server.url, {G: three_triples()}, password="", retries=3, backoff=0.1,
                strategy="staged") == {G: 3}
    first, second, third = state["times"][:3]
    assert second - first >= 0.1 and third - second >= 0.2  # back-off doubles
    posts = [r for r in server.requests if r[1].startswith("/store")]
    assert len(posts) == 1 and b"http://example.org/s2" in posts[0][3]


def test_load_gives_up_after_a_bounded_number_of_503s(scripted_server):
    answer, state = flaky(failures=100)
    server = scripted_server(answer)
    result = CliRunner().invoke(main, ["load", "--endpoint", server.url, "--timeout", "5"])
    assert result.exit_code == 2 and "HTTP 503" in result.stderr and "Traceback" not in result.output
    assert state["n"] == 4  # one try and three retries


# --- a rebuild never leaves a half-deleted store (issue 14 item 2) ------------------------------

TINY_MAIN = """
import pyoxigraph as ox
import kg.build
def quads(progress=None, extra_files=()):
    for i in range(3000):
        yield ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("o"), ox.NamedNode("https://w3id.org/tariff-kg/graph/fault-test"))
kg.build.graph_quads = quads
from kg.cli import main
main()
"""


def _store_opens(path: Path) -> bool:
    try:
        ox.Store.read_only(str(path))
    except OSError:
        return False
    return True


def test_force_rebuild_killed_while_removing_the_old_store(tmp_path):
    """strace kills the rebuild at its 5th unlinkat: the store is still whole, or absent."""
    import shutil

    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    probe = subprocess.run(["strace", "-f", "-e", "trace=none", "true"], check=False,
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot run here: {probe.stderr.decode().strip()[:200]}")
    script = tmp_path / "tiny_main.py"
    script.write_text(TINY_MAIN)
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": str(Path(kg.build.__file__).parent.parent)}
    built = subprocess.run([sys.executable, str(script), "build", "--store", str(home)],
                           check=False, capture_output=True, text=True, timeout=120, env=env)
    path = Path(built.stdout.strip())
    assert built.returncode == 0 and is_complete(path), built.stderr
    for when in (1, 3, 5, 9, 15):
        subprocess.run(["strace", "-f", "-o", "/dev/null", "-e", "trace=unlinkat", "-e",
                        f"inject=unlinkat:signal=KILL:when={when}", sys.executable, str(script),
                        "build", "--force", "--store", str(home)],
                       check=False, capture_output=True, timeout=120, env=env)
        assert not path.exists() or (is_complete(path) and _store_opens(path)), when
        again = subprocess.run([sys.executable, str(script), "query", "data_reach", "--store",
                                str(home)], check=False, capture_output=True, text=True, timeout=120, env=env)
        assert again.returncode == 0, (when, again.stderr)
        assert is_complete(path) and _store_opens(path)


def test_force_rebuild_interrupted_while_removing_keeps_a_whole_store(tmp_path, tiny_graph,
                                                                      monkeypatch):
    path = build_store(store_path(tmp_path))
    real_rmtree = kg.build.shutil.rmtree

    def rmtree_then_die(folder, *args, **kwargs):
        victim = next(Path(folder).glob("MANIFEST-*"), None)
        if victim:
            victim.unlink()  # part of the removal happened
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.build.shutil, "rmtree", rmtree_then_die)
    with pytest.raises(KeyboardInterrupt):
        build_store(path, force=True)
    monkeypatch.setattr(kg.build.shutil, "rmtree", real_rmtree)
    assert is_complete(path) and _store_opens(path)
    assert ensure_store(tmp_path) == path
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert leftovers and all(kg.build.RETIRED in name for name in leftovers)  # removed once we exit


def test_a_complete_store_that_cannot_open_is_rebuilt_by_the_next_command(tmp_path, tiny_graph):
    path = build_store(store_path(tmp_path))
    for name in ("CURRENT", *(p.name for p in path.glob("MANIFEST-*"))):
        (path / name).unlink()
    assert is_complete(path) and not _store_opens(path)
    result = CliRunner().invoke(main, ["query", "data_reach", "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rebuilding" in result.stderr and _store_opens(path)


# --- the embedded store obeys --timeout and survives a query that outgrows memory (item 8) ------

CROSS_JOIN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"


@pytest.fixture(scope="module")
def home(shipped_store_root):
    return shipped_store_root


def test_a_cross_join_on_the_embedded_store_stops_at_the_timeout(home, tmp_path):
    path = tmp_path / "cross.rq"
    path.write_text(CROSS_JOIN)
    start = time.monotonic()
    result = CliRunner().invoke(main, ["query", "--file", str(path), "--timeout", "2"],
                                env={"TARIFFKG_HOME": str(home)})
    assert result.exit_code == 2, result.output
    assert "did not finish within 2 s (--timeout)" in result.stderr
    assert time.monotonic() - start < 20


def test_order_by_over_a_cross_join_is_one_line_not_an_abort(home, tmp_path):
    path = tmp_path / "cross.rq"
    path.write_text(CROSS_JOIN + " ORDER BY ?c ?f")
    env = {**os.environ, "TARIFFKG_HOME": str(home), "TARIFFKG_QUERY_MEMORY_MB": "700"}
    process = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "query",
                              "--file", str(path), "--timeout", "120"], check=False,
                             capture_output=True, text=True, timeout=300, env=env)
    assert process.returncode == 2, (process.returncode, process.stderr[-2000:])
    assert "out of memory" in process.stderr and "TARIFFKG_QUERY_MEMORY_MB" in process.stderr
    assert "backtrace" not in process.stderr and process.stderr.count("\n") == 1


def test_the_worker_comes_back_after_a_timeout(shipped_store):
    from kg.errors import StoreError
    from kg.store import LocalStore

    store = LocalStore.open(shipped_store.path, timeout=1)
    try:
        with pytest.raises(StoreError, match="within 1 s"):
            store.select(CROSS_JOIN)
        assert store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t } LIMIT 1")
    finally:
        store.close()


# --- a load stopped part-way leaves no temporary graphs (item 9) ------------------------------


def _loading_graphs(query_url: str) -> list[str]:
    from kg.load import LOADING_PREFIX

    query = ("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
             f'FILTER(STRSTARTS(STR(?g), "{LOADING_PREFIX}")) }}')
    url = query_url + "?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return [row["g"]["value"] for row in json.load(answer)["results"]["bindings"]]


def _staged_load(home: Path, url: str) -> subprocess.Popen:
    base = url.rsplit("/", 1)[0]
    return tariffkg_process(home, "load", "--endpoint", url, "--store-endpoint", base + "/store",
                            "--update-endpoint", base + "/update", start_new_session=True)


def _wait_for_loading_graphs(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if _loading_graphs(url):
            return
        time.sleep(0.1)
    pytest.fail(f"no temporary graph appeared: {process.communicate()}")


@pytest.mark.server
def test_a_load_stopped_with_sigterm_drops_its_temporary_graphs(home, own_oxigraph):
    url = own_oxigraph.query_url
    process = _staged_load(home, url)
    _wait_for_loading_graphs(url, process)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert _loading_graphs(url) == []


@pytest.mark.server
def test_a_load_killed_part_way_is_cleaned_by_the_next(home, own_oxigraph):
    url = own_oxigraph.query_url
    process = _staged_load(home, url)
    _wait_for_loading_graphs(url, process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert _loading_graphs(url), "SIGKILL leaves the temporary graph behind"
    again = tariffkg_process(home, "load", "--endpoint", url)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert _loading_graphs(url) == []
    assert "graph/hts\t" in out
