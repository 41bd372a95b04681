"""podfence ui's HTTP face: the JSON API, the page and its guards.

Guards, in the order a request meets them:

* ``Host`` must name the address the server listens on (or ``localhost`` on the
  loopback address): a page of another site that a DNS name points at this port
  cannot read the answers.
* Off the loopback address, every request needs the access token: the printed URL
  carries it (``?token=``), which sets a cookie for the rest of the session.
* A write (``POST``: a save into a loaded file, an apply to the live cluster, and
  the editor's checks) needs the session's CSRF token in ``X-Podfence-CSRF`` (the
  page reads it from its ``<meta>``) and an ``Origin`` equal to the server's own;
  anything else is 403. ``--read-only`` refuses every write.
* Every answer carries a Content-Security-Policy that allows this origin's scripts
  and styles only: no inline script or style, no other host.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import queue
import secrets
import socket
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from podfence.app import Stop
from podfence.render.json_text import json_line
from podfence.ui.api import Refused, Workspace, rule_doc
from podfence.ui.denials import DenialFeed, Event

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
COOKIE = "podfence_token"
MAX_BODY = 4 << 20  # a manifest posted for validation
HEARTBEAT = 15.0  # seconds between the comments that keep an idle denial stream open
POLL = 1.0  # seconds between looks whether the page watching the denials went away
NO_LAB = "no lab to watch: start podfence ui with --lab NAME (a lab that podfence lab up brought up)"


def static_dir() -> Path:
    return Path(str(resources.files("podfence.ui") / "static"))


@dataclass
class Guard:
    """The session's secrets and the addresses it answers on."""

    host: str
    port: int
    read_only: bool = False
    token: str | None = None  # the access token; None on the loopback address
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @classmethod
    def for_host(cls, host: str, port: int, read_only: bool = False) -> Guard:
        return cls(host, port, read_only, None if host in LOOPBACK else secrets.token_urlsafe(32))

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}/" + ("" if self.token is None else f"?token={self.token}")

    def hosts(self) -> set[str]:
        names = {self.netloc}
        if self.host in LOOPBACK:
            names |= {f"localhost:{self.port}", f"127.0.0.1:{self.port}", f"[::1]:{self.port}"}
        return names

    def origins(self) -> set[str]:
        return {f"http://{h}" for h in self.hosts()}


def create_app(workspaces: dict[str, Workspace], guard: Guard, denials: DenialFeed | None = None) -> FastAPI:
    """The application: ``workspaces`` by context name ("" for manifests alone), the first the default;
    ``denials``, the lab's denied connections that ``/api/denials`` streams (None: no lab)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    first = next(iter(workspaces))
    index_html = (static_dir() / "index.html").read_text(encoding="utf-8")

    def workspace(request: Request) -> Workspace:
        name = request.query_params.get("context", first)
        if name not in workspaces:
            raise Refused(f"context {name!r}: not loaded (loaded: {', '.join(workspaces) or 'manifests'})")
        return workspaces[name]

    @app.middleware("http")
    async def guard_requests(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = _refusal(request, guard)
        if refusal is not None:
            response: Response = PlainTextResponse(refusal, status_code=403)
        else:
            response = await call_next(request)
            if guard.token is not None and request.query_params.get("token") == guard.token:
                response.set_cookie(COOKIE, guard.token, httponly=True, samesite="strict")
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    def json_text(text: str) -> Response:
        return Response(text, media_type="application/json")

    @app.get("/")
    def index() -> Response:
        page = index_html.replace("{{csrf}}", guard.csrf).replace("{{read_only}}", str(guard.read_only).lower())
        return Response(page, media_type="text/html; charset=utf-8")

    @app.get("/api/contexts")
    def contexts() -> Response:
        return JSONResponse({"contexts": list(workspaces), "read_only": guard.read_only,
                             "denials": denials is not None,
                             "live": [name for name, ws in workspaces.items() if ws.live_context is not None]})

    @app.get("/api/view")
    def view(request: Request) -> Response:
        return JSONResponse(workspace(request).view())

    @app.get("/api/catalog")
    def catalog(request: Request) -> Response:
        return JSONResponse(workspace(request).catalog())

    @app.get("/api/namespace-map")
    def namespace_map(request: Request) -> Response:
        return json_text(workspace(request).namespace_map_json())

    @app.get("/api/namespace-view")
    def namespace_view(request: Request, namespace: str = "") -> Response:
        return JSONResponse(workspace(request).namespace_view(namespace))

    @app.get("/api/matrix")
    def matrix(request: Request, port: str = "", protocol: str | None = None) -> Response:
        return json_text(workspace(request).matrix(port, protocol))

    @app.get("/api/connectivity")
    def connectivity(request: Request) -> Response:
        return json_text(workspace(request).connectivity())

    @app.get("/api/explain")
    def explain(request: Request, port: str = "", protocol: str | None = None) -> Response:
        src = request.query_params.get("from", "")
        dst = request.query_params.get("to", "")
        if not src or not dst:
            raise Refused("give from and to: ns/pod, a workload, a service or an IP")
        return json_text(workspace(request).explain(src, dst, port, protocol))

    @app.get("/api/lint")
    def lint(request: Request) -> Response:
        return json_text(workspace(request).lint())

    @app.get("/api/audit")
    def audit(request: Request) -> Response:
        return json_text(workspace(request).audit())

    @app.get("/api/rules/{rule}")
    def rule(rule: str) -> Response:
        text = rule_doc(rule)
        if text is None:
            return JSONResponse({"error": f"no lint rule {rule!r}"}, status_code=404)
        return JSONResponse({"rule": rule, "doc": text})

    @app.post("/api/validate")
    async def validate(request: Request) -> Response:
        text, _ = workspace(request).validate(await _body(request))
        return json_text(text)  # the errors are the answer, as check prints them

    @app.post("/api/impact")
    async def impact(request: Request) -> Response:
        body = await _body(request)
        return json_text(workspace(request).impact(body, request.query_params.get("replaces") or None))

    @app.get("/api/generate/{block}")
    def generate(request: Request, block: str) -> Response:
        return JSONResponse({"yaml": workspace(request).generate(block, request.query_params)})

    @app.get("/api/document")
    def document(request: Request, kind: str = "", key: str = "") -> Response:
        return JSONResponse(workspace(request).document(kind, key))

    @app.post("/api/save")
    async def save(request: Request) -> Response:
        body = await _body(request)
        name = request.query_params.get("context", first)
        ws = workspace(request)
        q = request.query_params
        saved = ws.save(q.get("file", ""), body, q.get("kind") or None, q.get("key") or None)
        workspaces[name] = ws.reloaded()
        return JSONResponse({"file": str(saved.path), "created": saved.created, "policies": ws.policies_in(body)})

    @app.post("/api/apply")
    async def apply(request: Request) -> Response:
        body = await _body(request)
        name = request.query_params.get("context", first)
        ws = workspace(request)
        answer = await asyncio.to_thread(ws.apply, body)  # the cluster's answers take a while: keep serving
        if answer["applied"]:
            try:
                workspaces[name] = await asyncio.to_thread(ws.reloaded)
            except Refused as e:
                answer["message"] += f"; the page still shows the cluster as it was before: {e}"
        return JSONResponse(answer)

    @app.get("/api/diff")
    def diff(request: Request, base: str = "") -> Response:
        return json_text(workspace(request).diff(base))

    @app.get("/api/denials")
    def denial_stream(request: Request) -> Response:
        if denials is None:
            return JSONResponse({"error": NO_LAB}, status_code=404)
        return StreamingResponse(_events(request, denials), media_type="text/event-stream",
                                 headers={"X-Accel-Buffering": "no"})

    app.mount("/static", StaticFiles(directory=static_dir(), follow_symlink=False), name="static")
    return app


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(f"the manifest is {len(body)} bytes; at most {MAX_BODY} are read")
    return body


async def _events(request: Request, feed: DenialFeed):  # type: ignore[no-untyped-def]
    """Server-sent events: ``data: RECORD`` per denial (the JSON line podfence lab denials prints), a
    comment every HEARTBEAT seconds, and ``event: end`` with the reason when the lab's stream ends."""
    watcher = feed.subscribe()
    try:
        yield ": watching the lab's denied connections\n\n"
        quiet = 0.0
        while not await request.is_disconnected():
            try:
                kind, value = await asyncio.to_thread(_next, watcher)
            except queue.Empty:
                quiet += POLL
                if quiet >= HEARTBEAT:
                    quiet = 0.0
                    yield ": heartbeat\n\n"
                continue
            quiet = 0.0
            if kind == "end":
                yield f"event: end\ndata: {json.dumps({'error': value})}\n\n"
                return
            yield f"data: {json_line(value)}\n"  # the line ends the data field, the blank line the event
    finally:
        feed.unsubscribe(watcher)


def _next(watcher: queue.SimpleQueue[Event]) -> Event:
    return watcher.get(timeout=POLL)


def _refusal(request: Request, guard: Guard) -> str | None:
    """Why the request is refused (403), or None."""
    if request.headers.get("host", "") not in guard.hosts():
        return "forbidden: unknown Host"
    if guard.token is not None:
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given, guard.token):
            return "forbidden: the access token is missing or wrong (use the URL podfence ui printed)"
    if request.method not in ("GET", "HEAD"):
        if guard.read_only:
            return "forbidden: podfence ui runs with --read-only"
        if request.headers.get("origin") not in guard.origins():
            return "forbidden: cross-origin request"
        if not hmac.compare_digest(request.headers.get("x-podfence-csrf", ""), guard.csrf):
            return "forbidden: the CSRF token is missing or wrong"
    return None


def serve(workspaces: dict[str, Workspace], host: str, port: int, read_only: bool, browser: bool,
          denials: DenialFeed | None = None) -> None:
    """Listen on ``host:port``, print the URL (first line on stdout), open the browser, answer until interrupted."""
    for ws in workspaces.values():  # the page's first question is the map: have it answered by then
        ws.warm()
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except (OSError, OverflowError) as e:
        sock.close()
        raise Stop(f"--host {host} --port {port}: cannot listen there "
                   f"({e.strerror if isinstance(e, OSError) else e})") from None
    sock.listen(128)
    guard = Guard.for_host(host, sock.getsockname()[1], read_only)
    app = create_app(workspaces, guard, denials)
    sys.stdout.write(guard.url + "\n")
    sys.stdout.flush()
    if browser:
        import webbrowser

        webbrowser.open(guard.url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
