"""A scriptable fake of the Anthropic Messages API on loopback, for driving the real Claude Code CLI.

Each *turn* request (a streamed ``POST /v1/messages`` that carries tools, i.e. the agent's main loop)
takes the next :class:`Behaviour` from the script queue; when the queue is empty it gets
``default``. Side calls (title generation, quota probes, token counting, ...) never consume the
script: they get a short plain reply. Every request is recorded, unknown paths are logged.

Run it by hand to watch what a CLI sends::

    python -m tests.realagents.fake_anthropic --port 8765
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.realagents.fake_http import run_by_hand, send_event_stream

log = logging.getLogger("fake_anthropic")


@dataclass(frozen=True)
class Text:
    """A quick text reply."""

    text: str = "Hello from the fake model."


@dataclass(frozen=True)
class SlowStream:
    """A text reply streamed as one delta per ``interval`` seconds for ``seconds`` seconds."""

    seconds: float = 30.0
    interval: float = 1.0
    word: str = "tick "
    first_delay: float = 0.0  # silence before the first delta ("thinking")


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block asking to run a Bash command (the permission dialog in manual mode)."""

    command: str = "echo hello-from-fake"
    description: str = "Print a greeting"


@dataclass(frozen=True)
class HttpError:
    """An error response, e.g. 429 ``rate_limit_error``, 529 ``overloaded_error``, 500 ``api_error``."""

    status: int = 429
    error_type: str = "rate_limit_error"
    message: str = "Number of request tokens has exceeded your per-minute rate limit"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AskQuestion:
    """A ``tool_use`` of Claude Code's ``AskUserQuestion`` tool: one question with its options (2-4),
    drawn as ``☐ Header``, the question, numbered options. Only a turn that offers the tool gets it."""

    question: str = "Which database should the service use?"
    header: str = "Database"
    options: tuple[tuple[str, str], ...] = (
        ("PostgreSQL", "Full SQL, good for concurrency"),
        ("SQLite", "A file, no server"),
    )
    multi_select: bool = False

    def tool_input(self) -> dict[str, Any]:
        """The tool's input as its schema has it: ``{"questions": [{question, header, options, multiSelect}]}``."""
        options = [{"label": label, "description": text} for label, text in self.options]
        question = {
            "question": self.question,
            "header": self.header,
            "options": options,
            "multiSelect": self.multi_select,
        }
        return {"questions": [question]}


Behaviour = Text | SlowStream | ToolUse | HttpError | AskQuestion


def _tool_call(behaviour: ToolUse | AskQuestion) -> tuple[str, dict[str, Any]]:
    """The tool name and input of a tool-calling behaviour."""
    if isinstance(behaviour, AskQuestion):
        return "AskUserQuestion", behaviour.tool_input()
    return "Bash", {"command": behaviour.command, "description": behaviour.description}


def offers_tool(body: dict[str, Any], name: str) -> bool:
    """Whether a request lists the tool ``name`` among its ``tools``."""
    return any(isinstance(tool, dict) and tool.get("name") == name for tool in body.get("tools") or ())


def rate_limited(message: str = "Number of request tokens has exceeded your per-minute rate limit") -> HttpError:
    """429 with the headers the real API sends along."""
    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    return HttpError(
        429,
        "rate_limit_error",
        message,
        (
            ("retry-after", "3600"),
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", reset),
            ("anthropic-ratelimit-tokens-limit", "40000"),
            ("anthropic-ratelimit-tokens-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", reset),
        ),
    )


def overloaded() -> HttpError:
    return HttpError(529, "overloaded_error", "Overloaded")


def server_error() -> HttpError:
    return HttpError(500, "api_error", "Internal server error")


@dataclass(frozen=True)
class RecordedRequest:
    at: float
    method: str
    path: str
    body: dict[str, Any]
    turn: bool  # took a scripted behaviour
    behaviour: str  # what it was answered with


@dataclass
class FakeAnthropic:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    default: Behaviour = field(default_factory=Text)
    host: str = "127.0.0.1"
    port: int = 0
    script: deque[Behaviour] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    handler: type[_Handler] | None = None  # the request handler class; None: the Anthropic one
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def push(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next turn requests, in order."""
        with self._lock:
            self.script.extend(behaviours)

    def clear(self) -> None:
        with self._lock:
            self.script.clear()

    def turns(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.turn]

    def start(self) -> FakeAnthropic:
        fake = self

        class Handler(self.handler or _Handler):  # type: ignore[misc]
            owner = fake

        self._stop.clear()
        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-anthropic", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # ends slow streams early
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- decisions ---------------------------------------------------------------------------------

    def _take(self, body: dict[str, Any]) -> tuple[bool, Behaviour]:
        if not is_turn(body):
            return False, Text("Fake session")
        with self._lock:
            if self.script and isinstance(self.script[0], AskQuestion) and not offers_tool(body, "AskUserQuestion"):
                return False, Text("Fake session")  # a side loop with tools, but not this one: keep the question
            return True, self._pop_turn()

    def _next_turn(self) -> Behaviour:
        """The next scripted behaviour (``default`` when the script is empty), taken under the lock."""
        with self._lock:
            return self._pop_turn()

    def _pop_turn(self) -> Behaviour:
        return self.script.popleft() if self.script else self.default

    def _record(self, method: str, path: str, body: dict[str, Any], turn: bool, answer: str) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(time.time(), method, path, body, turn, answer))


def is_turn(body: dict[str, Any]) -> bool:
    """A main-loop request offers tools; title/quota/summary calls offer none. Not always streamed:
    Claude Code 1.x retries a failed stream once without streaming."""
    return bool(body.get("tools"))


def _message(model: str, content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 8},
    }


def stream_events(
    behaviour: Text | SlowStream | ToolUse | AskQuestion, model: str, stop: threading.Event
) -> Iterator[str]:
    """The SSE event sequence of one streamed reply."""

    def event(name: str, data: dict[str, Any]) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    start = _message(model, [], "")
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": 12, "output_tokens": 1}
    yield event("message_start", {"type": "message_start", "message": start})
    if isinstance(behaviour, ToolUse | AskQuestion):
        name, tool_input = _tool_call(behaviour)
        block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": {}}
        yield event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        args = json.dumps(tool_input)
        for piece in (args[: len(args) // 2], args[len(args) // 2 :]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        stop_reason = "tool_use"
    else:
        block = {"type": "text", "text": ""}
        yield event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
        if isinstance(behaviour, SlowStream):
            stop.wait(behaviour.first_delay)
            deadline = time.monotonic() + behaviour.seconds
            while time.monotonic() < deadline and not stop.is_set():
                delta = {"type": "text_delta", "text": behaviour.word}
                yield event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
                stop.wait(behaviour.interval)
        else:
            delta = {"type": "text_delta", "text": behaviour.text}
            yield event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        stop_reason = "end_turn"
    yield event("content_block_stop", {"type": "content_block_stop", "index": 0})
    yield event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 8},
        },
    )
    yield event("message_stop", {"type": "message_stop"})


class _Handler(BaseHTTPRequestHandler):
    owner: FakeAnthropic
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def _send_json(self, status: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:20]}")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _unknown_post(self, body: dict[str, Any], status: int, payload: dict[str, Any]) -> None:
        """A POST to a path this API does not have: logged, recorded as ``unknown``, answered ``payload``."""
        log.info("unknown POST %s", self.path)
        self.owner._record("POST", self.path, body, False, "unknown")
        self._send_json(status, payload)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.owner._record("GET", self.path, {}, False, "get")
        if path.startswith("/v1/models"):
            model = {
                "type": "model",
                "id": "claude-sonnet-4-5",
                "display_name": "Fake",
                "created_at": "2025-01-01T00:00:00Z",
            }
            self._send_json(200, {"data": [model], "has_more": False, "first_id": None, "last_id": None})
            return
        log.info("unknown GET %s", self.path)
        self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": "not here"}})

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_json()
        if path == "/v1/messages/count_tokens":
            self.owner._record("POST", self.path, body, False, "count_tokens")
            self._send_json(200, {"input_tokens": 42})
            return
        if path != "/v1/messages":
            self._unknown_post(body, 200, {})
            return
        turn, behaviour = self.owner._take(body)
        self.owner._record("POST", self.path, body, turn, type(behaviour).__name__)
        model = str(body.get("model") or "claude-sonnet-4-5")
        if isinstance(behaviour, HttpError):
            error = {"type": "error", "error": {"type": behaviour.error_type, "message": behaviour.message}}
            self._send_json(behaviour.status, error, behaviour.headers)
            return
        if not body.get("stream"):
            if isinstance(behaviour, ToolUse | AskQuestion):
                name, tool_input = _tool_call(behaviour)
                block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": tool_input}
                self._send_json(200, _message(model, [block], "tool_use"))
                return
            text = behaviour.text if isinstance(behaviour, Text) else "ok"
            self._send_json(200, _message(model, [{"type": "text", "text": text}], "end_turn"))
            return
        send_event_stream(self, stream_events(behaviour, model, self.owner._stop), log)


def main() -> None:
    """Serve on ``--port`` and print every request."""

    def describe(req: RecordedRequest) -> tuple[object, ...]:
        keys = {k: req.body.get(k) for k in ("model", "max_tokens", "stream")}
        return req.method, req.path, keys, "tools" in req.body, req.behaviour

    run_by_hand(__doc__ or "", 8765, lambda port: FakeAnthropic(port=port), describe)


if __name__ == "__main__":
    main()
