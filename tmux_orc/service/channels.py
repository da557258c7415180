"""Alerts to the outside channels through Apprise (ntfy, Slack, Telegram, Discord, email, webhooks...).

Apprise is synchronous, so each URL has its own worker thread fed by a bounded queue: the cycle only
puts a message on the queue, and a receiver that hangs holds up nothing but its own thread (the
others go on sending). Each send has a timeout (Apprise's connect/read timeouts), a failed one is
retried a bounded number of times with exponential backoff, and a failing channel is logged once
per streak of failures. URLs show only as :func:`~tmux_orc.secret_urls.redact_url` makes them;
what Apprise itself logs is kept out of the daemon's log and read with the URL's secrets scrubbed.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from apprise import Apprise, AppriseAsset, NotifyType

from tmux_orc.config import Settings
from tmux_orc.core.alerts import Alert
from tmux_orc.core.outbox import ChannelMessage, Route, render_message
from tmux_orc.secret_urls import SecretUrl, quiet_apprise, redact_url, split_tags

log = logging.getLogger(__name__)

QUEUE_MAX = 20  # messages waiting per channel; the oldest goes when a hung receiver lets it fill
BACKOFF = 1.0  # seconds before the first retry; doubled each time, capped
BACKOFF_MAX = 30.0
_NOTIFY_TYPE = {"info": NotifyType.INFO, "warning": NotifyType.WARNING, "critical": NotifyType.FAILURE}


class _AppriseLines(logging.Handler):
    """The last warning Apprise logged in this thread: the reason a send failed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message (Apprise's lines never go further)."""
        try:
            self.local.last = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed log call inside Apprise: the failure still counts
            self.local.last = "(unreadable Apprise message)"

    def take(self) -> str:
        """The last message of this thread since the previous call."""
        last: str = getattr(self.local, "last", "")
        self.local.last = ""
        return last


_LINES = _AppriseLines()


def _secret_parts(url: str) -> list[str]:
    """Pieces of ``url`` that may be secret (user, password, path segments, query values, a token
    in the host's place), longest first, to scrub them from any text about it."""
    parts = urlsplit(url)
    pieces = [url, parts.username or "", parts.password or ""]
    pieces += [unquote(seg) for seg in parts.path.split("/")] + parts.path.split("/")
    pieces += [value for _, value in parse_qsl(parts.query)]
    host = parts.netloc.rpartition("@")[2]
    if "***" in redact_url(url).split("/", 3)[2]:
        pieces += [host, *host.split(":")]
    return sorted({p for p in pieces if len(p) >= 3}, key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """``text`` with every secret piece replaced by ``***``."""
    for piece in secrets:
        text = text.replace(piece, "***")
    return text


@dataclass(slots=True)
class _Counters:
    sent: int = 0
    failed: int = 0
    retries: int = 0
    dropped: int = 0


@dataclass(eq=False)
class Channel:
    """One Apprise URL with its route, queue and worker thread."""

    label: str  # redacted
    route: Route
    plugin: object  # an Apprise NotifyBase
    secrets: list[str]
    retries: int
    backoff: float = BACKOFF
    counters: _Counters = field(default_factory=_Counters)
    queue: queue.Queue[ChannelMessage | None] = field(default_factory=lambda: queue.Queue(QUEUE_MAX))
    stop: threading.Event = field(default_factory=threading.Event)
    failing: bool = False
    thread: threading.Thread | None = None

    def start(self, index: int) -> None:
        """Start the worker thread."""
        self.thread = threading.Thread(target=self._run, name=f"tmux-orc-channel-{index}", daemon=True)
        self.thread.start()

    def offer(self, message: ChannelMessage | None) -> None:
        """Queue ``message``; when full (a receiver hung), the oldest waiting message goes."""
        while True:
            try:
                self.queue.put_nowait(message)
                return
            except queue.Full:
                try:
                    self.queue.get_nowait()
                    self.counters.dropped += 1
                except queue.Empty:
                    continue

    def _run(self) -> None:
        while not self.stop.is_set():
            message = self.queue.get()
            if message is None:
                return
            try:
                self._deliver(message)
            except Exception:  # a bug here must not end the thread: the next message is tried
                log.exception("channel %s: unexpected error while sending", self.label)

    def _deliver(self, message: ChannelMessage) -> None:
        why = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.counters.retries += 1
                if self.stop.wait(min(self.backoff * 2 ** (attempt - 1), BACKOFF_MAX)):
                    return
            ok, why = self._attempt(message)
            if ok:
                self.counters.sent += 1
                if self.failing:
                    self.failing = False
                    log.info("channel %s works again", self.label)
                return
            log.debug("channel %s: attempt %d/%d failed: %s", self.label, attempt + 1, self.retries + 1, why)
        self.counters.failed += 1
        if not self.failing:
            self.failing = True
            log.warning("channel %s: could not send an alert after %d attempt(s): %s (logged once until it "
                        "works again)", self.label, self.retries + 1, why or "no reason given")

    def _attempt(self, message: ChannelMessage) -> tuple[bool, str]:
        _LINES.take()
        try:
            ok = bool(self.plugin.notify(  # type: ignore[attr-defined]
                body=message.body, title=message.title, notify_type=_NOTIFY_TYPE.get(message.severity)))
        except Exception as exc:  # noqa: BLE001 - a plugin raising instead of returning False: a failed send
            return False, scrub(f"{type(exc).__name__}: {exc}", self.secrets)
        return ok, "" if ok else scrub(_LINES.take() or "the receiver refused it", self.secrets)


def _key(settings: Settings, urls: Sequence[SecretUrl]) -> tuple[object, ...]:
    return (tuple(urls), settings.notify_min_severity, settings.notify_retries, settings.notify_timeout)


class ChannelSender:
    """The :class:`~tmux_orc.core.outbox.ChannelSink` of the daemon: one worker thread per URL."""

    def __init__(self, settings: Settings, backoff: float = BACKOFF) -> None:
        logger = quiet_apprise()
        if _LINES not in logger.handlers:
            logger.addHandler(_LINES)
        self.backoff = backoff
        self.asset = AppriseAsset(storage_mode="memory")
        self.channels: list[Channel] = []
        self._key: tuple[object, ...] = ()
        self._gone = _Counters()  # counts of channels replaced by a reload
        self.configure(settings)

    def configure(self, settings: Settings) -> None:
        """Build the channels from the settings (at start and on reload, when they changed)."""
        urls = settings.channel_urls()
        key = _key(settings, urls)
        if key == self._key:
            return
        self.close(wait=0.0)
        self._key = key
        self.channels = [self._channel(url, settings) for url in urls]
        for index, channel in enumerate(self.channels):
            channel.start(index)
        if self.channels:
            log.info("alert channels: %s", ", ".join(c.label for c in self.channels))

    def _channel(self, url: SecretUrl, settings: Settings) -> Channel:
        tags, bare = split_tags(url.reveal())
        plugin = Apprise.instantiate(bare, asset=self.asset, suppress_exceptions=True)
        if plugin is None:  # checked when the settings loaded; a plugin may still refuse at build
            raise ValueError(f"Apprise cannot use {url}")
        query = dict(parse_qsl(urlsplit(bare).query))
        if "cto" not in query:
            plugin.socket_connect_timeout = settings.notify_timeout
        if "rto" not in query:
            plugin.socket_read_timeout = settings.notify_timeout
        return Channel(str(url), Route.from_tags(tags, settings.notify_min_severity), plugin,
                       _secret_parts(bare), settings.notify_retries, self.backoff)

    def send(self, alerts: Sequence[Alert]) -> None:
        """Route one batch to each channel that wants some of it; returns at once."""
        for channel in self.channels:
            picked = [a for a in alerts if channel.route.accepts(a)]
            if picked:
                channel.offer(render_message(picked))

    def counters(self) -> dict[str, int]:
        """Totals over every channel (GetMetrics)."""
        every = [c.counters for c in self.channels] + [self._gone]
        return {"channel_messages_sent": sum(c.sent for c in every),
                "channel_messages_failed": sum(c.failed for c in every),
                "channel_retries": sum(c.retries for c in every),
                "channel_messages_dropped": sum(c.dropped for c in every),
                "channels": len(self.channels)}

    def close(self, wait: float = 2.0) -> None:
        """Stop the worker threads; a thread stuck in a hung send is left behind (daemon thread)."""
        for channel in self.channels:
            channel.stop.set()
            channel.offer(None)
            for name in ("sent", "failed", "retries", "dropped"):
                setattr(self._gone, name, getattr(self._gone, name) + getattr(channel.counters, name))
        deadline = time.monotonic() + wait
        for channel in self.channels:
            if channel.thread is not None:
                channel.thread.join(max(0.0, deadline - time.monotonic()))
        self.channels = []

    async def aclose(self) -> None:
        """For the composition root's exit stack (joins the threads off the event loop)."""
        await asyncio.to_thread(self.close)
