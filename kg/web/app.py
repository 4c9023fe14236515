"""The web application of `tariffkg serve`: the page, the JSON API and the SPARQL endpoint.

Built on FastAPI (Starlette underneath, served by uvicorn): it describes the API in OpenAPI at
/api/openapi.json. The handlers only parse parameters (kg.web.questions), ask kg.web.service and
serialise; every answer is the object the CLI prints, in the CLI's JSON contract.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from kg.errors import EndpointError, InputError, StoreError
from kg.report import render
from kg.series import ENTRY, write_series
from kg.web import questions as q
from kg.web.pages import Pages
from kg.web.service import Service
from kg.web.sparql import QueryRunner, SparqlError, parse_request

HERE = Path(__file__).resolve().parent
FIRST_DAY = date(2025, 1, 1)

PARAMETERS = {
    "hts": "HTS tariff line, 8 or 10 digits, dots optional (e.g. 8703.23.01)",
    "origin": "country of origin: ISO code (JP, JPN) or English name (Japan)",
    "date": "date of entry for consumption, YYYY-MM-DD",
    "as_known_on": "answer with the law as known on this day, YYYY-MM-DD (default: today)",
    "claim": "preference program claimed, by its special program indicator (KR, S, JP, AU, ...; "
             "default: none)",
    "quota": "in or over a tariff-rate quota (default: over)",
    "content": "share of the customs value by metal in percent: steel=40,aluminum=10,copper=25 "
               "(default: not given)",
    "loaded": "day the goods were loaded for shipment, YYYY-MM-DD (default: not in transit)",
    "format": "json (default), text or csv",
    "from": "first day, YYYY-MM-DD (default: 2025-01-01)",
    "to": "last day, YYYY-MM-DD (default: today)",
    "q": "digits of an HTS code, or words of its description",
    "limit": "how many codes at most (default 20, at most 100)",
}
DIFF_PARAMETERS = {**PARAMETERS, "origin": "country of origin (default: JP)",
                   "hts": "compare the duty on this line instead of the origin's measures (the "
                          "entry facts claim, quota, content, loaded need it)",
                   "from": "first day, YYYY-MM-DD", "to": "second day, YYYY-MM-DD"}
TIMELINE_PARAMETERS = {**PARAMETERS, "as_known_on": "answer every day as known on this day, "
                       "YYYY-MM-DD (default: each day as the law was known that day, as applied)"}
DIFF_QUERY = ("from", "to", "origin", "hts", "as_known_on", "claim", "quota", "content", "loaded")
EVENT_PARAMETERS = {**PARAMETERS, "as_known_on": "only the events known by this day, YYYY-MM-DD "
                    "(default: all)"}
SERIES_PARAMETERS = {**PARAMETERS, "origin": "one or more countries of origin, comma-separated",
                     "hts": "HTS chapters, headings, subheadings or lines, comma-separated (their "
                            "tariff lines, at most 100)",
                     "as_known_on": "the law as known on this day, YYYY-MM-DD (default: today), "
                                    "or 'entry' for the law as applied at the time",
                     "format": "json (default) or csv"}


def openapi_parameters(names: tuple[str, ...], required: tuple[str, ...] = (),
                       texts: dict[str, str] = PARAMETERS) -> dict:
    """The OpenAPI description of query parameters (all strings, checked by the handlers)."""
    return {"parameters": [{"name": name, "in": "query", "required": name in required,
                            "description": texts[name], "schema": {"type": "string"}}
                           for name in names]}


def error_json(error: Exception, status: int = 400) -> JSONResponse:
    """`{"error": "...", "parameter": "..."}` with the status."""
    body = {"error": str(error)}
    if isinstance(error, q.ParameterError):
        body["parameter"] = error.parameter
    return JSONResponse(body, status_code=status)


def create_app(backend, store_path: Path | None = None, query_timeout: float = 30.0,
               today: Callable[[], date] = date.today) -> FastAPI:
    """The application over a backend (LocalStore or RemoteEndpoint); /sparql needs the store's
    folder (store_path) and answers 501 without it."""
    service = Service(backend)
    runner = (QueryRunner(str(store_path), _tariff_graphs(), query_timeout)
              if store_path else None)
    pages = Pages(service, today)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        threading.Thread(target=_warm, args=(service,), daemon=True).start()
        yield
        if runner:
            runner.close()
        if hasattr(backend, "close"):
            backend.close()

    app = FastAPI(title="tariff-kg", version=_version(), lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url="/api/openapi.json",
                  description="What duty applied to a product from an origin on a date, as the "
                              "law was known on a day, and which legal acts made it so.")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(InputError)
    async def input_error(request: Request, error: InputError):
        return error_json(q.from_cli_error(error), 400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        name = str(first.get("loc", ["", "request"])[-1])
        return error_json(q.ParameterError(name, first.get("msg", "invalid")), 400)

    @app.exception_handler(EndpointError)
    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: Exception):
        return error_json(error, 502)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception):
        first = (str(error).strip().splitlines() or [""])[0][:300]
        return JSONResponse({"error": f"unexpected {type(error).__name__}: {first}"}, 500)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request):
        return HTMLResponse(pages.index(dict(request.query_params)))

    @app.get("/part/timeline", response_class=HTMLResponse, include_in_schema=False)
    def timeline_part(request: Request):
        return HTMLResponse(pages.timeline_part(dict(request.query_params)))

    @app.get("/part/diff", response_class=HTMLResponse, include_in_schema=False)
    def diff_part(request: Request):
        return HTMLResponse(pages.diff_part(dict(request.query_params)))

    @app.get("/api/duty", summary="The duty on one product, origin and day",
             openapi_extra=openapi_parameters(q.DUTY_PARAMETERS + ("format",),
                                               ("hts", "origin", "date")))
    def api_duty(request: Request) -> Response:
        """The CLI's `tariffkg duty` answer: JSON (its contract), text or CSV."""
        params = _params(request, q.DUTY_PARAMETERS + ("format",))
        fmt = q.value(params, "format") or "json"
        if fmt not in ("json", "text", "csv"):
            raise q.ParameterError("format", f"{fmt!r}: give json, text or csv")
        answer = service.duty(q.duty_question(params, today()))
        media = {"json": "application/json", "text": "text/plain", "csv": "text/csv"}[fmt]
        return Response(render(answer, fmt), media_type=f"{media}; charset=utf-8")

    @app.get("/api/timeline", summary="The duty on a product from an origin over time",
             openapi_extra=openapi_parameters(
                 ("hts", "origin", "from", "to", "as_known_on", "claim", "quota", "content",
                  "loaded"), ("hts", "origin"), TIMELINE_PARAMETERS))
    def api_timeline(request: Request) -> Response:
        """What `tariffkg timeline --format json` prints: steps of constant duty, each change with
        the act behind it."""
        params = _params(request, ("hts", "origin", "from", "to", "as_known_on", "claim",
                                   "quota", "content", "loaded"))
        hts = q.hts_line(q.required(params, "hts", "an HTS line such as 8703.23.01"))
        origin = q.origin(q.required(params, "origin", "a country of origin such as JP"))
        period = q.period(params, FIRST_DAY, today())
        given = q.value(params, "as_known_on")
        known = q.known_on(given, today=today()) if given else None
        result = service.timeline(hts, origin, period, known, q.entry_facts(params))
        return _cli_json(result.to_dict())

    @app.get("/api/events", summary="Negotiation events of an origin and court rulings",
             openapi_extra=openapi_parameters(("origin", "as_known_on"), ("origin",),
                                              EVENT_PARAMETERS))
    def api_events(request: Request) -> JSONResponse:
        """The events the timeline chart marks (those of `tariffkg timeline --chart`)."""
        params = _params(request, ("origin", "as_known_on"))
        origin = q.origin(q.required(params, "origin", "a country of origin such as JP"))
        given = q.value(params, "as_known_on")
        known = q.known_on(given, today=today()) if given else None
        return JSONResponse({"origin": origin,
                             "as_known_on": known.isoformat() if known else None,
                             "events": [e.to_dict() for e in service.events(origin, known)]})

    @app.get("/api/diff", summary="What changed between two days",
             openapi_extra=openapi_parameters(DIFF_QUERY, ("from", "to"), DIFF_PARAMETERS))
    def api_diff(request: Request) -> Response:
        """What `tariffkg diff --format json` prints: the origin's measures (or the parts of the
        duty on hts, both days answered with the entry facts) that started, ended or changed."""
        params = _params(request, DIFF_QUERY)
        first = q.entry_day(q.required(params, "from", "the first day as YYYY-MM-DD"), "from")
        second = q.entry_day(q.required(params, "to", "the second day as YYYY-MM-DD"), "to")
        origin = q.origin(q.value(params, "origin") or "JP")
        hts = q.value(params, "hts")
        known = q.known_on(q.value(params, "as_known_on"), today=today())
        given = [name for name in q.FACT_PARAMETERS if q.value(params, name)]
        if given and not hts:
            raise q.ParameterError(given[0], f"{', '.join(given)}: facts of one product's entry; "
                                             "give hts with them (the measures in force are the "
                                             "origin's, for any goods)")
        facts = q.entry_facts(params) if hts else None
        result = service.diff(origin, first, second, known, q.hts_line(hts) if hts else None,
                              facts)
        return _cli_json(result.to_dict())

    @app.get("/api/series", summary="Periods of constant duty for lines and origins",
             openapi_extra=openapi_parameters(("origin", "hts", "from", "to", "as_known_on",
                                               "format"), ("origin", "hts"), SERIES_PARAMETERS))
    def api_series(request: Request) -> Response:
        """The rows of `tariffkg series`: one per line, origin and period of constant duty."""
        params = _params(request, ("origin", "hts", "from", "to", "as_known_on", "format"))
        origins: list[str] = []
        for part in q.required(params, "origin", "one or more countries, e.g. JP,KR").split(","):
            if part.strip() and q.origin(part) not in origins:
                origins.append(q.origin(part))
        prefixes = [q.hts_prefix(part)[:8] for part in q.required(
            params, "hts", "one or more HTS chapters, headings or lines").split(",")
            if part.strip()]
        period = q.period(params, FIRST_DAY, today())
        given = q.value(params, "as_known_on")
        known = (None if (given or "").lower() == ENTRY
                 else q.known_on(given, today=today()))
        fmt = q.value(params, "format") or "json"
        if fmt not in ("json", "csv"):
            raise q.ParameterError("format", f"{fmt!r}: give json or csv")
        columns, rows = service.series(origins, prefixes, period, known)
        if fmt == "csv":
            out = io.StringIO()
            write_series(columns, rows, "csv", out)
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8")
        return JSONResponse({"origins": origins, "hts": prefixes, "from": period.start.isoformat(),
                             "to": period.end.isoformat(),
                             "as_known_on": known.isoformat() if known else ENTRY,
                             "columns": columns, "rows": rows})

    @app.get("/api/hts", summary="Find HTS codes by digits or description",
             openapi_extra=openapi_parameters(("q", "limit"), ("q",)))
    def api_hts(request: Request) -> JSONResponse:
        """Codes whose digits start with q, or whose descriptions hold every word of q."""
        params = _params(request, ("q", "limit"))
        text = q.required(params, "q", "digits of an HTS code or words of its description")
        limit_text = q.value(params, "limit") or "20"
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
            raise q.ParameterError("limit", f"{limit_text!r}: give a number from 1 to 100")
        return JSONResponse({"q": text, "codes": service.search(text, int(limit_text))})

    @app.api_route("/sparql", methods=["GET", "POST"], include_in_schema=False)
    async def sparql(request: Request) -> Response:
        if runner is None:
            return JSONResponse({"error": "this server asks a SPARQL endpoint (--endpoint): "
                                          "send SPARQL queries to that endpoint"}, 501)
        params: dict[str, list[str]] = {}
        for key, item in request.query_params.multi_items():
            params.setdefault(key, []).append(item)
        body = await request.body() if request.method == "POST" else b""
        try:
            query = parse_request(request.method, params, request.headers.get("content-type", ""),
                                  body, request.headers.get("accept", "*/*"))
            media, payload = await run_in_threadpool(runner.run, query)
        except SparqlError as error:
            return JSONResponse({"error": str(error)}, error.status)
        return Response(payload, media_type=media, headers={"Vary": "Accept"})

    return app


def _params(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    params = dict(request.query_params)
    q.reject_unknown(params, allowed)
    return params


def _cli_json(data: dict) -> Response:
    """The JSON the CLI prints for the same object (its text, indented as the CLI does)."""
    return Response(json.dumps(data, indent=2, ensure_ascii=False),
                    media_type="application/json")


def _tariff_graphs() -> list[str]:
    from kg.namespaces import GRAPH_DERIVED, GRAPH_HTS, GRAPH_ONTOLOGY, GRAPH_TIMELINE

    return [GRAPH_ONTOLOGY, GRAPH_TIMELINE, GRAPH_HTS, GRAPH_DERIVED]


def _warm(service: Service) -> None:
    """Load the code index in the background, so the first search is quick."""
    try:
        service.codes.codes()
    except Exception:  # noqa: BLE001 - a failing load is reported by the search that needs it
        pass


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tariff-kg")
    except PackageNotFoundError:
        return "0"
