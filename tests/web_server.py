"""`tariffkg serve` started for real on 127.0.0.1 and a free port, over the session's store.

Shared by tests/test_web_api.py, tests/test_sparql_endpoint.py and tests/test_web_browser.py:
the server runs in its own process (the command a user types), the tests talk HTTP to it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KNOWN = "2026-12-01"  # every question fixes the day of knowledge: never "today"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_command(*args: str) -> list[str]:
    """The `tariffkg ARGS` command line of this checkout's kg package."""
    return [sys.executable, "-c", "import sys; from kg.cli import main; sys.argv[0] = 'tariffkg'; "
            "main()", *args]


class WebServer:
    """`tariffkg serve --port PORT ARGS` with TARIFFKG_HOME at the session store's root."""

    def __init__(self, home: Path, *args: str):
        self.home = home
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = tempfile.TemporaryFile()

    def start(self, timeout: float = 60) -> WebServer:
        """Start the server and wait until it answers."""
        env = {**os.environ, "TARIFFKG_HOME": str(self.home)}
        self.process = subprocess.Popen(cli_command("serve", "--port", str(self.port), *self.args),
                                        cwd=REPO, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tariffkg serve exited: {self.output()}")
            try:
                with urllib.request.urlopen(self.url + "/api/openapi.json", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"tariffkg serve did not answer in {timeout} s: {self.output()}")

    def output(self) -> str:
        """What the server printed so far."""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def request(self, path: str, params: dict | None = None, data: bytes | None = None,
                headers: dict | None = None, method: str | None = None,
                timeout: float = 120) -> tuple[int, dict, bytes]:
        """(status, headers with lower-case names, body) of one request; errors are answers too."""
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()

    def json(self, path: str, params: dict | None = None, **kwargs) -> tuple[int, dict]:
        """(status, parsed JSON body) of a GET."""
        status, _, body = self.request(path, params, **kwargs)
        return status, json.loads(body)


def _lower(headers) -> dict:
    return {name.lower(): value for name, value in headers.items()}
