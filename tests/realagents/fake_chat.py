"""A scriptable fake of the OpenAI Chat Completions API on loopback (Aider, opencode, Qwen Code).

Same script/queue/recording as :mod:`fake_anthropic`; a *turn* is decided by ``turn_if`` (default: a
streamed ``POST /v1/chat/completions`` that offers tools, i.e. an agent loop; Aider offers no tools, so
its lab passes :func:`streamed`). Side calls (titles, summaries, "who speaks next" checks) get a short
reply and never consume the script. ``ToolCall`` streams an OpenAI ``tool_calls`` delta for any function
name the CLI offers (``bash`` for opencode, ``run_shell_command`` for Qwen Code).

Run it by hand to watch what a CLI sends::

    python -m tests.realagents.fake_chat --port 8766
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
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
from tests.realagents.fake_http import run_by_hand, send_event_stream

log = logging.getLogger("fake_chat")


@dataclass(frozen=True)
class ToolCall:
    """One function call ``name(arguments)``, streamed as a ``tool_calls`` delta."""

    name: str
    arguments: dict[str, Any]


ChatBehaviour = Behaviour | ToolCall


def chat_rate_limited(model: str = "gpt-4o") -> HttpError:
    return HttpError(
        429,
        "rate_limit_exceeded",
        f"Rate limit reached for {model} on tokens per min (TPM): Limit 30000, Used 30000, Requested 100.",
        (("retry-after", "3600"), ("x-ratelimit-remaining-requests", "0")),
    )


def chat_server_error(status: int = 500) -> HttpError:
    if status == 503:
        return HttpError(503, "server_error", "The engine is currently overloaded, please try again later.")
    return HttpError(500, "server_error", "The server had an error while processing your request.")


def chat_bad_request() -> HttpError:
    return HttpError(400, "invalid_request_error", "Invalid value for 'messages': the request could not be parsed.")


def has_tools(body: dict[str, Any]) -> bool:
    """An agent loop turn: streamed and offering tools."""
    return bool(body.get("stream")) and bool(body.get("tools"))


def streamed(body: dict[str, Any]) -> bool:
    """Every streamed request is a turn (Aider: no tools, its side calls are not streamed)."""
    return bool(body.get("stream"))


def chunks(behaviour: Text | SlowStream | ToolUse | ToolCall, model: str, stop: threading.Event) -> Iterator[str]:
    """The SSE ``chat.completion.chunk`` sequence of one streamed reply, ending in ``data: [DONE]``."""
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> str:
        data: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if usage is not None:
            data["usage"] = usage
        return f"data: {json.dumps(data)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if isinstance(behaviour, ToolUse):
        behaviour = ToolCall("bash", {"command": behaviour.command, "description": behaviour.description})
    if isinstance(behaviour, ToolCall):
        call = {
            "index": 0,
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": behaviour.name, "arguments": ""},
        }
        yield chunk({"tool_calls": [call]})
        args = json.dumps(behaviour.arguments)
        for piece in (args[: len(args) // 2], args[len(args) // 2 :]):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        finish = "tool_calls"
    else:
        if isinstance(behaviour, SlowStream):
            stop.wait(behaviour.first_delay)
            deadline = time.monotonic() + behaviour.seconds
            while time.monotonic() < deadline and not stop.is_set():
                yield chunk({"content": behaviour.word})
                stop.wait(behaviour.interval)
        else:
            yield chunk({"content": behaviour.text})
        finish = "stop"
    usage = {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
    yield chunk({}, finish, usage)
    yield "data: [DONE]\n\n"


def completion(text: str, model: str) -> dict[str, Any]:
    """A plain (non-streamed) chat completion."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }


class _ChatHandler(_Handler):
    owner: FakeChat

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.owner._record("GET", self.path, {}, False, "get")
        if path.endswith("/models"):
            models = [{"id": self.owner.model, "object": "model", "created": 0, "owned_by": "fake"}]
            self._send_json(200, {"object": "list", "data": models})
            return
        log.info("unknown GET %s", self.path)
        self._send_json(404, {"error": {"message": "not here", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_json()
        if not path.endswith("/chat/completions"):
            self._unknown_post(body, 404, {"error": {"message": "not here", "type": "invalid_request_error"}})
            return
        turn, behaviour = self.owner._take(body)
        self.owner._record("POST", self.path, body, turn, type(behaviour).__name__)
        model = str(body.get("model") or self.owner.model)
        if isinstance(behaviour, HttpError):
            error = {
                "error": {"message": behaviour.message, "type": behaviour.error_type, "code": behaviour.error_type}
            }
            self._send_json(behaviour.status, error, behaviour.headers)
            return
        if not body.get("stream"):
            text = behaviour.text if isinstance(behaviour, Text) else "ok"
            self._send_json(200, completion(text, model))
            return
        send_event_stream(self, chunks(behaviour, model, self.owner._stop), log)  # type: ignore[arg-type]


@dataclass
class FakeChat(FakeAnthropic):
    """The Chat Completions fake; ``side_reply`` answers requests that are not turns."""

    handler: type[_Handler] = _ChatHandler
    model: str = "gpt-4o"
    turn_if: Callable[[dict[str, Any]], bool] = has_tools
    side_reply: str = "Fake title"

    def push(self, *behaviours: ChatBehaviour) -> None:  # type: ignore[override]
        """Queue behaviours (``ToolCall`` too) for the next turn requests, in order."""
        with self._lock:
            self.script.extend(behaviours)  # type: ignore[arg-type]

    def _take(self, body: dict[str, Any]) -> tuple[bool, Behaviour]:
        if not self.turn_if(body):
            return False, Text(self.side_reply)
        return True, self._next_turn()


def main() -> None:
    """Serve on ``--port`` and print every request."""

    def describe(req: RecordedRequest) -> tuple[object, ...]:
        keys = {k: req.body.get(k) for k in ("model", "stream")}
        return req.method, req.path, keys, "tools" in req.body, req.behaviour

    run_by_hand(__doc__ or "", 8766, lambda port: FakeChat(port=port), describe)


if __name__ == "__main__":
    main()
