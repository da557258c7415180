"""A scriptable fake of the OpenAI Responses API on loopback, for driving the real Codex CLI.

Same behaviours as :mod:`fake_anthropic` (``Text``, ``SlowStream``, ``ToolUse``, ``HttpError``), and
:class:`fake_chat.ToolCall` for a call of any function Codex offers (``request_user_input``);
a turn is a streamed ``POST /v1/responses`` that offers tools. Codex's side calls (the thread title,
asked with a JSON schema and no tools) get a fixed title and never consume the script.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.realagents.fake_anthropic import (
    Behaviour,
    FakeAnthropic,
    HttpError,
    SlowStream,
    Text,
    ToolUse,
    _Handler,
)
from tests.realagents.fake_chat import ToolCall
from tests.realagents.fake_http import send_event_stream

log = logging.getLogger("fake_openai")


def openai_rate_limited() -> HttpError:
    return HttpError(
        429,
        "rate_limit_exceeded",
        "Rate limit reached for gpt-5-codex on tokens per min (TPM): Limit 30000, Used 30000, Requested 100.",
        (("retry-after", "3600"), ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "1h")),
    )


def openai_server_error() -> HttpError:
    return HttpError(500, "server_error", "The server had an error while processing your request.")


def is_codex_turn(body: dict[str, Any]) -> bool:
    return bool(body.get("stream")) and bool(body.get("tools"))


def response_events(
    behaviour: Text | SlowStream | ToolUse | ToolCall, model: str, stop: threading.Event,
    text_override: str | None = None,
) -> Iterator[str]:
    """The SSE event sequence of one streamed Responses API reply."""
    resp_id = f"resp_{uuid.uuid4().hex[:24]}"
    item_id = f"msg_{uuid.uuid4().hex[:24]}"
    seq = iter(range(1_000_000))

    def event(name: str, data: dict[str, Any]) -> str:
        data = {"type": name, "sequence_number": next(seq), **data}
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    base = {
        "id": resp_id,
        "object": "response",
        "created_at": int(time.time()),
        "model": model,
        "status": "in_progress",
        "output": [],
    }
    yield event("response.created", {"response": base})
    yield event("response.in_progress", {"response": base})
    if isinstance(behaviour, ToolUse | ToolCall):
        name = behaviour.name if isinstance(behaviour, ToolCall) else "exec_command"
        args = json.dumps(
            behaviour.arguments
            if isinstance(behaviour, ToolCall)
            else {
                "cmd": behaviour.command,
                "justification": behaviour.description,
                "sandbox_permissions": "require_escalated",
            }
        )
        call = {
            "type": "function_call",
            "id": f"fc_{uuid.uuid4().hex[:24]}",
            "status": "in_progress",
            "call_id": f"call_{uuid.uuid4().hex[:24]}",
            "name": name,
            "arguments": "",
        }
        yield event("response.output_item.added", {"output_index": 0, "item": call})
        yield event("response.function_call_arguments.delta", {"item_id": call["id"], "output_index": 0, "delta": args})
        yield event(
            "response.function_call_arguments.done", {"item_id": call["id"], "output_index": 0, "arguments": args}
        )
        done_item: dict[str, Any] = {**call, "status": "completed", "arguments": args}
    else:
        msg = {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}
        yield event("response.output_item.added", {"output_index": 0, "item": msg})
        part = {"type": "output_text", "text": "", "annotations": []}
        yield event(
            "response.content_part.added", {"item_id": item_id, "output_index": 0, "content_index": 0, "part": part}
        )
        pieces: list[str] = []

        def delta(text: str) -> str:
            pieces.append(text)
            return event(
                "response.output_text.delta", {"item_id": item_id, "output_index": 0, "content_index": 0, "delta": text}
            )

        if isinstance(behaviour, SlowStream):
            stop.wait(behaviour.first_delay)
            deadline = time.monotonic() + behaviour.seconds
            while time.monotonic() < deadline and not stop.is_set():
                yield delta(behaviour.word)
                stop.wait(behaviour.interval)
        else:
            yield delta(text_override if text_override is not None else behaviour.text)
        text = "".join(pieces)
        yield event(
            "response.output_text.done", {"item_id": item_id, "output_index": 0, "content_index": 0, "text": text}
        )
        done_item = {
            **msg,
            "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}],
        }
    yield event("response.output_item.done", {"output_index": 0, "item": done_item})
    usage = {
        "input_tokens": 12,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 8,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 20,
    }
    yield event(
        "response.completed", {"response": {**base, "status": "completed", "output": [done_item], "usage": usage}}
    )


class _OpenAIHandler(_Handler):
    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        body = self._read_json()
        if path != "/v1/responses":
            self._unknown_post(body, 404, {"error": {"message": "not here", "type": "invalid_request_error"}})
            return
        turn, behaviour = self.owner._take(body)
        self.owner._record("POST", self.path, body, turn, type(behaviour).__name__)
        if isinstance(behaviour, HttpError):
            error = {
                "error": {
                    "message": behaviour.message,
                    "type": behaviour.error_type,
                    "code": behaviour.error_type,
                    "param": None,
                }
            }
            self._send_json(behaviour.status, error, behaviour.headers)
            return
        override = None if turn else json.dumps({"title": "Fake task"})
        model = str(body.get("model") or "gpt-5-codex")
        send_event_stream(self, response_events(behaviour, model, self.owner._stop, override), log)


@dataclass
class FakeOpenAI(FakeAnthropic):
    """The Responses API fake: same script/queue/recording as :class:`FakeAnthropic`."""

    handler: type[_Handler] = _OpenAIHandler

    def _take(self, body: dict[str, Any]) -> tuple[bool, Behaviour]:
        if not is_codex_turn(body):
            return False, Text("")
        return True, self._next_turn()
