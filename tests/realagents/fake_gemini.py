"""A scriptable fake of the Gemini API on loopback, for driving the real Gemini CLI.

Gemini CLI (``GOOGLE_GEMINI_BASE_URL`` + ``GEMINI_API_KEY``) calls
``POST /v1beta/models/<model>:streamGenerateContent?alt=sse`` for its turns (server-sent ``data:`` lines,
each a ``GenerateContentResponse`` with ``candidates``), ``:generateContent`` for side calls (JSON checks
such as "who speaks next") and ``:countTokens``. A turn is a streamed request that offers tools and takes
the next scripted behaviour (``Text``, ``SlowStream``, ``HttpError``, :class:`fake_chat.ToolCall`, e.g.
``ToolCall("run_shell_command", {"command": ...})``); side calls never consume the script.

Run it by hand to watch what a CLI sends::

    python -m tests.realagents.fake_gemini --port 8767
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.realagents.fake_anthropic import (
    Behaviour,
    FakeAnthropic,
    HttpError,
    RecordedRequest,
    SlowStream,
    Text,
    ToolUse,
    _Handler,
)
from tests.realagents.fake_chat import ChatBehaviour, ToolCall
from tests.realagents.fake_http import run_by_hand, send_event_stream

log = logging.getLogger("fake_gemini")
MODEL = "gemini-2.5-pro"

# Google's error statuses by HTTP code (google.rpc.Code names).
_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True)
class GeminiError(HttpError):
    """An error with google.rpc ``details`` (QuotaFailure, RetryInfo, ErrorInfo), which decide how the CLI
    takes a 429: a daily quota is terminal (a dialog), a per-minute one is retried under the spinner."""

    details: tuple[dict[str, Any], ...] = ()


_QUOTA = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY = "type.googleapis.com/google.rpc.RetryInfo"


def gemini_rate_limited(daily: bool = True) -> GeminiError:
    """429 RESOURCE_EXHAUSTED as the real API words it: a daily free-tier quota, or a per-minute one."""
    quota_id = (
        "GenerateRequestsPerDayPerProjectPerModel-FreeTier" if daily else "GenerateRequestsPerMinutePerProjectPerModel"
    )
    message = (
        "You exceeded your current quota, please check your plan and billing details. "
        "Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
        f"limit: 50, model: {MODEL}. Please retry in 30s."
    )
    details = (
        {"@type": _QUOTA, "violations": [{"quotaMetric": "generate_content_free_tier_requests", "quotaId": quota_id}]},
        {"@type": _RETRY, "retryDelay": "30s"},
    )
    return GeminiError(429, "RESOURCE_EXHAUSTED", message, (), details)


def gemini_server_error(status: int = 500) -> HttpError:
    if status == 503:
        return HttpError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    return HttpError(500, "INTERNAL", "An internal error has occurred. Please retry or report in the issue tracker.")


def gemini_bad_request() -> HttpError:
    return HttpError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")


def _response(parts: list[dict[str, Any]], model: str, finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 8, "totalTokenCount": 20},
        "modelVersion": model,
    }


def stream_chunks(
    behaviour: Text | SlowStream | ToolUse | ToolCall, model: str, stop: threading.Event
) -> Iterator[str]:
    """The SSE ``data:`` lines of one streamed reply; the last one carries ``finishReason``."""

    def data(payload: dict[str, Any]) -> str:
        return f"data: {json.dumps(payload)}\r\n\r\n"

    if isinstance(behaviour, ToolUse):
        behaviour = ToolCall("run_shell_command", {"command": behaviour.command, "description": behaviour.description})
    if isinstance(behaviour, ToolCall):
        call = {"functionCall": {"name": behaviour.name, "args": behaviour.arguments}}
        yield data(_response([call], model, "STOP"))
        return
    if isinstance(behaviour, SlowStream):
        stop.wait(behaviour.first_delay)
        deadline = time.monotonic() + behaviour.seconds
        while time.monotonic() < deadline and not stop.is_set():
            yield data(_response([{"text": behaviour.word}], model, None))
            stop.wait(behaviour.interval)
        yield data(_response([{"text": "done."}], model, "STOP"))
        return
    yield data(_response([{"text": behaviour.text}], model, "STOP"))


def _side_answer(body: dict[str, Any]) -> str:
    """A JSON-mode side call (next-speaker / loop checks) gets a JSON object; others a short text."""
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") == "application/json" or config.get("responseJsonSchema"):
        return json.dumps({"next_speaker": "user", "reasoning": "The model answered.", "is_stuck": False})
    return "Fake title"


class _GeminiHandler(_Handler):
    owner: FakeGemini

    def do_GET(self) -> None:
        self.owner._record("GET", self.path, {}, False, "get")
        path = self.path.split("?", 1)[0]
        if path.rstrip("/").endswith("/models"):
            self._send_json(200, {"models": [{"name": f"models/{self.owner.model}", "displayName": "Fake"}]})
            return
        log.info("unknown GET %s", self.path)
        self._send_json(404, {"error": {"code": 404, "message": "not here", "status": "NOT_FOUND"}})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_json()
        method = path.rsplit(":", 1)[-1] if ":" in path else ""
        model = path.rsplit("/", 1)[-1].split(":", 1)[0] or self.owner.model
        if method == "countTokens":
            self.owner._record("POST", self.path, body, False, "countTokens")
            self._send_json(200, {"totalTokens": 42})
            return
        if method not in ("streamGenerateContent", "generateContent"):
            self._unknown_post(body, 404, {"error": {"code": 404, "message": "not here", "status": "NOT_FOUND"}})
            return
        streaming = method == "streamGenerateContent"
        turn, behaviour = self.owner._take(body, streaming)
        self.owner._record("POST", self.path, body, turn, type(behaviour).__name__)
        if isinstance(behaviour, HttpError):
            status = _STATUS.get(behaviour.status, behaviour.error_type)
            error: dict[str, Any] = {
                "error": {"code": behaviour.status, "message": behaviour.message, "status": status}
            }
            if isinstance(behaviour, GeminiError) and behaviour.details:
                error["error"]["details"] = list(behaviour.details)
            self._send_json(behaviour.status, error, behaviour.headers)
            return
        if not turn:
            reply = _response([{"text": _side_answer(body)}], model, "STOP")
            if not streaming:
                self._send_json(200, reply)
                return
            behaviour = Text(_side_answer(body))
        elif not streaming:
            text = behaviour.text if isinstance(behaviour, Text) else "ok"
            self._send_json(200, _response([{"text": text}], model, "STOP"))
            return
        send_event_stream(self, stream_chunks(behaviour, model, self.owner._stop), log)  # type: ignore[arg-type]


@dataclass
class FakeGemini(FakeAnthropic):
    """The Gemini API fake: same script/queue/recording as :class:`FakeAnthropic`."""

    handler: type[_Handler] = _GeminiHandler
    model: str = MODEL

    def push(self, *behaviours: ChatBehaviour) -> None:  # type: ignore[override]
        """Queue behaviours (``ToolCall`` too) for the next turn requests, in order."""
        with self._lock:
            self.script.extend(behaviours)  # type: ignore[arg-type]

    def _take(self, body: dict[str, Any], streaming: bool = True) -> tuple[bool, Behaviour]:  # type: ignore[override]
        if not (streaming and body.get("tools")):
            return False, Text("")
        return True, self._next_turn()


def main() -> None:
    """Serve on ``--port`` and print every request."""

    def describe(req: RecordedRequest) -> tuple[object, ...]:
        return req.method, req.path, "tools" in req.body, req.behaviour

    run_by_hand(__doc__ or "", 8767, lambda port: FakeGemini(port=port), describe)


if __name__ == "__main__":
    main()
