"""HTTP to SPARQL servers: credentials out of URLs, secrets out of messages, bounded waits.

One client (httpx) serves the query commands and `load`:
* credentials come from the URL (`http://user:password@host/...`, a password may hold `/`, `#`, `?`
  or `@`, typed as is or percent-encoded), else from the caller; they are answered to a server's
  Basic or Digest challenge and remembered as secrets that no message shows (kg.http.redact);
* each operation has one deadline: its timeout bounds the whole wait, retries and back-off
  included, and the message says how long it waited;
* refused connections, timeouts and 5xx answers are retried with doubling back-off while time
  remains; other answers are reported at once as an EndpointError naming the endpoint.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from kg.errors import EndpointError, InputError

PASSWORD_VARIABLE = "TARIFFKG_PASSWORD"
USER_VARIABLE = "TARIFFKG_USER"
MAX_ANSWER_BYTES = 256 * 1024 * 1024
MAX_TIMEOUT = 7 * 24 * 3600.0

_SECRETS: set[str] = set()
_HOST_PORT = re.compile(r"^(\[[^\]/?#@]*\]|[^\[\]/?#@:]*)(:[^/?#@]*)?([/?#]|$)")


# --- secrets ------------------------------------------------------------------------------------


def remember_secret(password: str | None, user: str | None = None) -> None:
    """Never show password again: as typed, percent-encoded, and inside a Basic header."""
    if not password:
        return
    forms = {password, urllib.parse.quote(password, safe=""), urllib.parse.quote(password)}
    pair = f"{user or ''}:{password}"
    for encoding in ("utf-8", "latin-1"):
        try:
            raw = pair.encode(encoding)
        except UnicodeEncodeError:
            continue
        forms |= {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
        forms.add(base64.b64encode(raw).decode().rstrip("="))
    if user:
        forms.add(pair)
    _SECRETS.update(form for form in forms if form)


def forget_secrets() -> None:
    """Forget every remembered secret (for tests)."""
    _SECRETS.clear()


def redact(text: str) -> str:
    """The text with every remembered secret replaced by *** where it stands as a whole token.

    A token is bounded by characters that are not letters or digits, so a one-letter password
    does not mangle the words around it.
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):
        pattern = r"(?<![A-Za-z0-9])" + re.escape(secret) + r"(?![A-Za-z0-9])"
        text = re.sub(pattern, "***", text)
    return text


# --- URLs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """A user name and password (the password is never part of the repr)."""

    user: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password={'***' if self.password else None})"


def split_credentials(url: str) -> tuple[str, Credentials]:
    """The URL without its user:password part, and those credentials (empty if none).

    The credentials end at the last `@` that is followed by a host (and port): so a password may
    hold `/`, `?`, `#` and `@`. Percent-encoded user names and passwords are decoded.
    """
    text = (url or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep:  # not a URL, but a password typed into it must not show either
        scheme, rest = "", text
    for at in reversed([i for i, char in enumerate(rest) if char == "@"]):
        userinfo, host = rest[:at], rest[at + 1:]
        user, colon, password = userinfo.partition(":")
        if not _HOST_PORT.match(host) or re.search(r"[/?#]", user):
            continue
        name = urllib.parse.unquote(user) or None
        secret = urllib.parse.unquote(password) if colon else None
        remember_secret(secret, name)
        remember_secret(secret)
        return (f"{scheme}://{host}" if sep else host), Credentials(name, secret)
    return text, Credentials()


def check_http_url(url: str, what: str = "endpoint URL") -> str:
    """The URL if it is http(s) with a host; InputError otherwise (file:, ftp:, no scheme...)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise InputError(f"not a usable {what}: {redact(url)} ({error})") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise InputError(f"not an http(s) {what}: {redact(shorten(url))}")
    return url


def shorten(text: str, limit: int = 120) -> str:
    """The text cut to limit characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def check_timeout(seconds: float, what: str = "--timeout") -> float:
    """A finite, positive number of seconds (at most a week)."""
    if not isinstance(seconds, (int, float)) or math.isnan(seconds) or math.isinf(seconds):
        raise InputError(f"{what} {seconds!r} is not a number of seconds")
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(f"{what} {seconds:g} must be more than 0 and at most {MAX_TIMEOUT:g} s")
    return float(seconds)


# --- the client ---------------------------------------------------------------------------------


class ChallengeAuth(httpx.Auth):
    """Answer a server's challenge with Basic or Digest authentication, whichever it asks for.

    Nothing is sent before the server asks; after the first challenge the scheme is remembered,
    so later requests (large uploads) are not sent twice.
    """

    def __init__(self, user: str, password: str):
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._scheme: str | None = None

    def auth_flow(self, request: httpx.Request):
        """The httpx authentication flow."""
        if self._scheme == "digest":
            yield from self._digest.auth_flow(request)
            return
        if self._scheme == "basic":
            yield from self._basic.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        challenges = response.headers.get_list("www-authenticate")
        schemes = {challenge.split(" ", 1)[0].lower() for challenge in challenges}
        if "digest" in schemes:
            self._scheme = "digest"
            flow = self._digest.auth_flow(request)
            next(flow)
            try:
                retry = flow.send(response)
            except StopIteration:
                return
            yield retry
        elif "basic" in schemes:
            self._scheme = "basic"
            yield from self._basic.auth_flow(request)


class AnswerLost(EndpointError):
    """The request may have reached the server, but its answer did not come back."""


class HttpClient:
    """POST to SPARQL servers with credentials, one deadline per operation and bounded retries.

    Server errors (5xx), refused connections and timeouts are retried up to `retries` times,
    waiting backoff, 2*backoff, 4*backoff... seconds (or the server's Retry-After), but never past
    `timeout` seconds from the start of the operation.
    """

    def __init__(
        self,
        user: str | None = None,
        password: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff: float = 0.5,
        urls: Iterable[str] = (),
    ):
        remember_secret(password, user)
        remember_secret(password)
        self.credentials = Credentials(user, password)
        self.timeout = check_timeout(timeout)
        self.retries = retries
        self.backoff = backoff
        auth = ChallengeAuth(user, password or "") if user else None
        self._http = httpx.Client(auth=auth, follow_redirects=False)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def post(
        self,
        url: str,
        body: bytes | Iterable[bytes],
        content_type: str,
        accept: str | None = None,
        retries: int | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """POST body to url and return the answer's bytes, retrying transient failures.

        A body given as an iterable of bytes streams (chunked) and can be sent once: give it
        with retries=0.
        """
        timeout = self.timeout if timeout is None else timeout
        retries = self.retries if retries is None else retries
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        start = time.monotonic()
        deadline = start + timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._post_once(url, body, headers, deadline, timeout)
            except _Transient as problem:
                wait = max(self.backoff * 2 ** (attempt - 1), problem.retry_after)
                if attempt > retries or time.monotonic() + wait >= deadline:
                    raise problem.final(redact_url(url), timeout, attempt, start) from None
                time.sleep(wait)

    def _post_once(self, url: str, body: bytes | Iterable[bytes], headers: dict, deadline: float,
                   timeout: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Transient("timeout")
        try:
            with self._http.stream("POST", url, content=body, headers=headers,
                                   timeout=httpx.Timeout(remaining)) as response:
                if response.status_code >= 500:
                    raise _Transient("status", response=response, detail=_detail(response))
                if response.status_code >= 400:
                    raise EndpointError(_http_message(url, response))
                return _read_answer(url, response, deadline)
        except httpx.TimeoutException:
            raise _Transient("timeout") from None
        except httpx.ConnectError as error:  # nothing was sent
            raise _Transient("unreachable", detail=_first_line(error)) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as error:
            raise _Transient("dropped", detail=_first_line(error)) from None
        except httpx.UnsupportedProtocol:
            raise InputError(f"not an http(s) endpoint URL: {redact_url(url)}") from None
        except httpx.InvalidURL as error:
            raise InputError(f"not a usable endpoint URL: {redact_url(url)} ({error})") from None

    def update(self, url: str, text: str, retries: int | None = None) -> None:
        """Send one SPARQL Update request (form-encoded `update=`)."""
        self.post(url, urllib.parse.urlencode({"update": text}).encode(),
                  "application/x-www-form-urlencoded", retries=retries)

    def select(self, url: str, query: str, timeout: float | None = None) -> list[dict]:
        """Run a SELECT query and return the JSON result bindings."""
        answer = self.post(url, urllib.parse.urlencode({"query": query}).encode(),
                           "application/x-www-form-urlencoded",
                           "application/sparql-results+json", timeout=timeout)
        try:
            bindings = json.loads(answer)["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise EndpointError(
                f"{redact_url(url)}: the answer is not SPARQL JSON results") from None
        if not isinstance(bindings, list):
            raise EndpointError(f"{redact_url(url)}: the answer is not SPARQL JSON results")
        return bindings


class _Transient(Exception):
    """A failure worth retrying: kind is timeout, unreachable (nothing sent), dropped or status."""

    def __init__(self, kind: str, response: httpx.Response | None = None, detail: str = ""):
        super().__init__(kind)
        self.kind = kind
        self.status = response.status_code if response is not None else None
        self.detail = detail
        self.retry_after = _retry_after(response)

    def final(self, where: str, timeout: float, attempts: int, start: float) -> EndpointError:
        waited = time.monotonic() - start
        tries = f" ({attempts} attempts in {waited:.1f} s)" if attempts > 1 else ""
        if self.kind == "timeout":
            return AnswerLost(f"{where}: no answer within {timeout:g} s (--timeout){tries}")
        if self.kind == "unreachable":
            return EndpointError(f"{where}: cannot reach the endpoint ({self.detail}){tries}")
        if self.kind == "dropped":
            return AnswerLost(f"{where}: the connection broke before the answer ({self.detail})"
                              f"{tries}")
        detail = f": {self.detail}" if self.detail else ""
        return AnswerLost(f"{where}: HTTP {self.status}{detail}{tries}")


def _retry_after(response: httpx.Response | None) -> float:
    if response is None:
        return 0.0
    try:
        return min(float(response.headers.get("Retry-After", 0)), 60.0)
    except ValueError:
        return 0.0


def _read_answer(url: str, response: httpx.Response, deadline: float) -> bytes:
    parts, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise EndpointError(f"{redact_url(url)}: the answer is larger than "
                                f"{MAX_ANSWER_BYTES // 2**20} MiB")
        parts.append(chunk)
        if time.monotonic() > deadline:
            raise _Transient("timeout")
    return b"".join(parts)


def _detail(response: httpx.Response) -> str:
    try:
        response.read()
        text = response.text
    except (httpx.HTTPError, UnicodeDecodeError):
        return ""
    return redact(shorten((text.strip().splitlines() or [""])[0], 300))


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return redact(shorten(lines[0], 300)) if lines else type(error).__name__


def _http_message(url: str, response: httpx.Response) -> str:
    where = redact_url(url)
    if response.status_code in {401, 403}:
        return (f"{where}: credentials refused (HTTP {response.status_code}); check --user "
                f"(or {USER_VARIABLE}) and {PASSWORD_VARIABLE}")
    if response.status_code == 404:
        return f"{where}: not found (HTTP 404); is this the right endpoint URL?"
    detail = _detail(response) or response.reason_phrase
    return f"{where}: HTTP {response.status_code}: {detail}"


def redact_url(url: str) -> str:
    """The URL without any user:password part, and with remembered secrets hidden."""
    clean, _ = split_credentials(url)
    return redact(clean)
