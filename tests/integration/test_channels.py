"""Alerts through Apprise to real receivers on 127.0.0.1: a JSON webhook, an SMTP server, one that
hangs and one that answers 500; the adapter alone, then the whole daemon."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import wait_until
from tests.harness.daemon import TMUX_ORCD, DaemonProcess
from tests.harness.receivers import SmtpReceiver, WebhookReceiver, iter_text
from tests.harness.tmux import TmuxTestServer
from tmux_orc.config import Settings
from tmux_orc.core.alerts import Alert
from tmux_orc.model import AlertKind
from tmux_orc.service.channels import ChannelSender

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
StartDaemon = Callable[..., DaemonProcess]
TOKEN = "tok-9f8e7d6c5b4a"


def crash_alert(target: str = "team:1.0") -> Alert:
    return Alert(AlertKind.CRASHED, "critical", f"{target} (developer) crashed", "the agent program exited",
                 target, target, "team", time.time())


def sender(*urls: str, retries: int = 2, timeout: float = 2.0) -> ChannelSender:
    return ChannelSender(Settings(notify_urls=list(urls), notify_retries=retries, notify_timeout=timeout),
                         backoff=0.05)


def test_a_500_is_retried_a_bounded_number_of_times_and_logged_once_without_the_secret(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with WebhookReceiver("fail") as bad:
        channels = sender(bad.url(f"hook/{TOKEN}"), retries=2)
        try:
            channels.send([crash_alert()])
            wait_until(lambda: channels.counters()["channel_messages_failed"] == 1, what="the send given up")
            channels.send([crash_alert("team:2.0")])
            wait_until(lambda: channels.counters()["channel_messages_failed"] == 2, what="the second given up")
        finally:
            channels.close()
    assert bad.attempts == 6  # 1 + 2 retries, twice
    assert channels.counters()["channel_retries"] == 4
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("tmux_orc")]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "json://127.0.0.1:" in warnings[0].getMessage() and "500" in warnings[0].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_a_hanging_receiver_holds_up_neither_the_caller_nor_the_other_channel() -> None:
    with WebhookReceiver("hang", hang_seconds=30) as hung, WebhookReceiver() as good:
        channels = sender(hung.url(), good.url(), retries=0, timeout=20)
        try:
            started = time.monotonic()
            channels.send([crash_alert()])
            returned_after = time.monotonic() - started
            wait_until(lambda: good.messages() and hung.attempts == 1, what="the good receiver's message")
            assert not hung.messages()  # still hanging while the other one got its alert
        finally:
            channels.close(wait=0.0)
    body = good.messages()[0].body
    assert body["title"] == "tmux-orc: team:1.0 (developer) crashed" and body["type"] == "failure"
    print(f"send() returned after {returned_after * 1000:.2f} ms with one receiver hanging")


def test_routing_by_severity_and_kind() -> None:
    with WebhookReceiver() as everything, WebhookReceiver() as critical, WebhookReceiver() as limits:
        channels = ChannelSender(Settings(notify_urls=[everything.url(), "critical=" + critical.url(),
                                                       "rate_limited,auto_resumed=" + limits.url()],
                                          notify_min_severity="info"))
        try:
            now = time.time()
            resumed = Alert(AlertKind.AUTO_RESUMED, "info", "team:2.0 (qa) was resumed", "", "team:2.0",
                            "team:2.0", "team", now)
            channels.send([crash_alert(), resumed])
            wait_until(lambda: everything.messages() and critical.messages() and limits.messages(),
                       what="each receiver's message")
        finally:
            channels.close()
    assert everything.messages()[0].body["title"] == "tmux-orc: 2 alerts, 1 critical"
    assert "crashed" in critical.messages()[0].body["title"]
    assert "resumed" in limits.messages()[0].body["title"]


@pytest.mark.timeout(120)
def test_a_crash_reaches_the_webhook_and_the_email_while_a_receiver_hangs(
        tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash --norc'")
    tmux_srv.new_window("team", "Claude-developer",
                        f"bash --norc --noprofile -c '{STANDIN} exit-after 4; exec bash --norc'")
    with WebhookReceiver() as hook, SmtpReceiver() as smtp, WebhookReceiver("hang", hang_seconds=30) as hung:
        url_file = tmp_path / "urls"
        url_file.write_text(f"# the mail server's password lives here\n{smtp.url()}\n")
        url_file.chmod(0o600)
        d = daemon(tmux_srv, notify_urls=json.dumps([hook.url(f"hook/{TOKEN}"), hung.url(f"x/{TOKEN}")]),
                   notify_urls_file=url_file, notify_batch_delay=1.0, notify_timeout=25, notify_retries=0)
        crashed = d.wait_state("team:1.0", "crashed", timeout=30)
        wait_until(lambda: hook.messages() and smtp.mails(), timeout=30, what="the webhook and the email")
        cycles_at_hang = d.call("GetStatus")[0]["cycles"]
        assert hung.attempts == 1 and not hung.messages()
        wait_until(lambda: d.call("GetStatus")[0]["cycles"] >= cycles_at_hang + 10, timeout=20,
                   what="cycles going on while the receiver hangs")
        assert not hung.messages()  # still hanging: the cycles did not wait for it
        status = d.call("GetStatus")[0]
        metrics = d.call("GetMetrics")[0]
        explain = d.call("Explain", "s", "team:1.0")[0]
        texts = list(iter_text(hook, smtp))
    assert any("team:1.0" in t and "crashed" in t for t in texts[:1])
    assert "team:1.0 (developer) crashed" in smtp.mails()[0].content
    assert metrics["channel_messages_sent"] >= 2 and metrics["channels"] == 3
    for where in (d.log(), json.dumps(status), json.dumps(metrics), json.dumps(explain)):
        assert TOKEN not in where and smtp.password not in where
    hook_s = hook.messages()[0].at - crashed["state_since"]
    mail_s = smtp.mails()[0].at - crashed["state_since"]
    print(f"crash published -> webhook {hook_s:.2f} s, email {mail_s:.2f} s (interval 0.3 s, batch delay 1 s); "
          f"cycle p95 {metrics['cycle_ms_p95']:.1f} ms with one receiver hanging")


def test_a_url_file_others_can_read_stops_the_daemon_with_one_line(tmp_path: Path) -> None:
    url_file = tmp_path / "urls"
    url_file.write_text(f"json://127.0.0.1:9/{TOKEN}\n")
    url_file.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX_ORC_")}
    env.update(TMUX_ORC_NOTIFY_URLS_FILE=str(url_file), XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([TMUX_ORCD], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 78
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "notify_urls_file" in lines[0].lower() and "chmod 600" in lines[0], lines
    assert TOKEN not in proc.stderr


def test_an_invalid_url_is_named_without_its_secret(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX_ORC_")}
    env.update(TMUX_ORC_NOTIFY_URLS=f"nosuchscheme://{TOKEN}@host/x", XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.run([TMUX_ORCD], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 78 and "NOTIFY_URLS" in proc.stderr and TOKEN not in proc.stderr, proc.stderr


def test_reload_takes_new_urls(tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    tmux_srv.new_session("team", "Claude-developer",
                         f"bash --norc --noprofile -c '{STANDIN} exit-after 6; exec bash --norc'")
    d = daemon(tmux_srv, notify_batch_delay=0)
    assert d.call("GetMetrics")[0]["channels"] == 0
    with WebhookReceiver() as hook:
        config = tmp_path / "config" / "tmux-orc" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'notify_urls = ["{hook.url(f"hook/{TOKEN}")}"]\n')
        d.call("Reload")
        assert d.call("GetMetrics")[0]["channels"] == 1
        d.wait_state("team:0.0", "crashed", timeout=30)
        wait_until(lambda: hook.messages(), timeout=20, what="the crash on the webhook added by Reload")
    assert "crashed" in hook.messages()[0].body["title"]
    assert TOKEN not in d.log()
