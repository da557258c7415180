"""What every fake model server does the same way over HTTP: stream server-sent events, and run by hand.

The fakes (:mod:`fake_anthropic`, :mod:`fake_chat`, :mod:`fake_gemini`, :mod:`fake_openai`) differ in what
they say; how a stream goes out and how ``python -m tests.realagents.fake_<api>`` watches requests is here.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.realagents.fake_anthropic import FakeAnthropic, RecordedRequest


def send_event_stream(handler: BaseHTTPRequestHandler, pieces: Iterable[str], log: logging.Logger) -> None:
    """A 200 ``text/event-stream`` answer that closes the connection, each piece written and flushed as
    it comes; a client that goes away mid-stream (an interrupted turn) ends it quietly."""
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("cache-control", "no-cache")
    handler.send_header("connection", "close")
    handler.end_headers()
    handler.close_connection = True
    try:
        for piece in pieces:
            handler.wfile.write(piece.encode())
            handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        log.info("client went away mid-stream (interrupted)")


def run_by_hand(
    doc: str,
    default_port: int,
    make: Callable[[int], FakeAnthropic],
    describe: Callable[[RecordedRequest], tuple[object, ...]],
) -> None:
    """The ``main`` of a fake: listen on ``--port`` and print ``describe(request)`` for every request
    until Ctrl-C."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--port", type=int, default=default_port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG)
    with make(args.port) as fake:
        print(f"listening on {fake.base_url}", flush=True)
        seen = 0
        try:
            while True:
                time.sleep(0.5)
                for req in fake.requests[seen:]:
                    print(*describe(req), flush=True)
                seen = len(fake.requests)
        except KeyboardInterrupt:
            pass
