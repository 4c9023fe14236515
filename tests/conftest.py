"""Shared fixtures: a real Oxigraph server on loopback for the tests marked `server`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OxigraphServer:
    """The Oxigraph server (`oxigraph serve`) on a folder and a loopback port; stop and restart."""

    def __init__(self, location: Path, port: int | None = None, union_default_graph: bool = True):
        self.location = location
        self.port = port or free_port()
        self.union_default_graph = union_default_graph
        self.process: subprocess.Popen | None = None

    @property
    def query_url(self) -> str:
        """The SPARQL query endpoint."""
        return f"http://127.0.0.1:{self.port}/query"

    def start(self, timeout: float = 20) -> None:
        """Start the server (with a union default graph unless told otherwise) and wait until it
        answers."""
        command = [
            "oxigraph",
            "serve",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
        ] + (["--union-default-graph"] if self.union_default_graph else [])
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"oxigraph serve exited: {error}")
            try:
                with urllib.request.urlopen(self.query_url + "?query=ASK%7B%7D", timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oxigraph serve did not answer on port {self.port} in {timeout} s")

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait for it to exit."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture()
def unused_port() -> int:
    """A loopback port nothing listens on."""
    return free_port()


@pytest.fixture(scope="session")
def oxigraph_binary() -> str:
    """The path of the `oxigraph` server program (PyPI package `oxigraph`)."""
    path = shutil.which("oxigraph")
    if path is None:
        pytest.fail("the `oxigraph` program is missing: pip install oxigraph==0.5.13")
    return path


@pytest.fixture(scope="session")
def oxigraph_server(oxigraph_binary, tmp_path_factory):
    """The query URL of a real Oxigraph server on loopback, stopped after the session."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    server.start()
    yield server.query_url
    server.stop()


@pytest.fixture(scope="session")
def plain_oxigraph_server(oxigraph_binary, tmp_path_factory):
    """The query URL of an Oxigraph server as it ships (no --union-default-graph)."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-plain"), union_default_graph=False)
    server.start()
    yield server.query_url
    server.stop()


@pytest.fixture()
def own_oxigraph(oxigraph_binary, tmp_path):
    """An Oxigraph server of the test's own, which the test may stop and restart."""
    server = OxigraphServer(tmp_path / "oxigraph")
    server.start()
    yield server
    server.stop()


CI_DIR = Path(__file__).resolve().parent.parent / ".ci"


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory):
    """The query URL of a new Virtuoso database on loopback (user dba, password dba).

    Started with .ci/virtuoso.sh. Without virtuoso-t the tests using it fail under CI (.ci/run
    installs it) and are skipped on a developer's machine, saying how to install it.
    """
    if shutil.which("virtuoso-t") is None:
        message = "virtuoso-t is not installed (run .ci/virtuoso.sh install)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port, sql_port = free_port(), free_port()
    script = str(CI_DIR / "virtuoso.sh")
    subprocess.run(
        [script, "start", str(folder), str(http_port), str(sql_port)], check=True, timeout=120
    )
    yield f"http://127.0.0.1:{http_port}/sparql"
    subprocess.run([script, "stop", str(folder)], check=False, timeout=30)


# --- Point-in-time duty answers: the real store and the mini fixture graph -----------------------

QUERY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "queries"


@pytest.fixture(scope="session")
def shipped_store_root(tmp_path_factory) -> Path:
    """A store root holding the real store, built once per session at kg.build.store_path(root).

    Built at exactly the path the CLI looks for, so TARIFFKG_HOME=root makes the CLI reuse it.
    """
    from kg.build import build_store, store_path

    root = tmp_path_factory.mktemp("tariffkg-home")
    build_store(store_path(root))
    return root


@pytest.fixture(scope="session")
def shipped_store(shipped_store_root):
    """The real store (ontology, curated timeline, product lists, full HTS), opened read-only."""
    from kg.build import store_path
    from kg.store import LocalStore

    return LocalStore.open(store_path(shipped_store_root))


@pytest.fixture(scope="session")
def mini_store():
    """An in-memory store of the stored-query fixture graph (tests/fixtures/queries/: made-up dates
    and rates), built as the real store is: ontology, curated triples, derived graph."""
    from fixture_stores import fixture_store

    return fixture_store()


# --- A scripted loopback HTTP server (slow answers, transient 503s, echoing hostile servers) ------


class ScriptedServer:
    """A loopback HTTP server in a thread; `answer(handler, body)` returns (status, headers, bytes).

    Every request is recorded in `requests` as (method, path, headers, body).
    """

    def __init__(self, answer):
        import http.server
        import threading

        self.requests: list[tuple[str, str, dict, bytes]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                outer.requests.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = answer(self, body)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _read_chunked(self) -> bytes:
                parts: list[bytes] = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/query"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def scripted_server():
    """Make ScriptedServer(answer) objects; all are closed after the test."""
    servers = []

    def make(answer) -> ScriptedServer:
        servers.append(ScriptedServer(answer))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
