"""Auto-resume proven with a usage limit that resets during the test.

Slow on purpose (about 1-2 minutes): the stand-in agent's limit screen says it resets at the next
whole minute at least 45 s ahead (Claude Code shows the reset to the minute), and the test waits for
that moment to pass; no clock is faked, the daemon reads the screen as it would a real one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.receivers import WebhookReceiver
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer

LIMITED = str(Path(__file__).resolve().parents[1] / "harness" / "limited" / "claude")
StartDaemon = Callable[..., DaemonProcess]
MARGIN = 3.0


def entries(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    return [(float(at), text) for at, _, text in (line.partition(" ") for line in path.read_text().splitlines())]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_resumed_once_after_the_limit_resets_never_before_and_never_over_typed_text(
        tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    reset = math.ceil((time.time() + 45) / 60) * 60
    dev_log, qa_log = tmp_path / "dev.log", tmp_path / "qa.log"
    tmux_srv.new_session("team", "Claude-developer",
                         f"bash --norc --noprofile -c '{LIMITED} {reset} {dev_log}; exec bash --norc'")
    qa = tmux_srv.new_window("team", "Claude-qa", f"bash --norc --noprofile -c '{LIMITED} {reset} {qa_log}; exec bash'")
    tmux_srv.wait_for(qa, "auto mode on")
    tmux_srv.send_keys(qa, "-l", "my own words")  # someone is typing into the QA's prompt
    with WebhookReceiver() as hook:
        d = daemon(tmux_srv, auto_resume="developer,qa", resume_margin=MARGIN, notify_pm="false",
                   notify_urls=f"auto_resumed={hook.url()}", notify_batch_delay=0)
        d.wait_state("team:0.0", "rate_limited", timeout=30)
        d.wait_state("team:1.0", "rate_limited", timeout=30)
        explained = d.call("Explain", "s", "team:0.0")[0]
        assert explained["auto_resume_at"] == reset + MARGIN, (explained, reset)
        assert explained["auto_resume"] == "waiting for the limit to reset"
        with SignalRecorder(d.address) as signals:
            resumed = wait_until(lambda: entries(dev_log), timeout=reset - time.time() + 60, interval=0.2,
                                 what="the resume message in the developer's prompt")
            alert = signals.wait_for("Alert", lambda b: "resumed" in b[1], timeout=30)
        wait_until(lambda: hook.messages(), timeout=20, what="the auto_resumed alert on the webhook")
        time.sleep(3.0)  # more cycles: nothing more is sent
        metrics = d.call("GetMetrics")[0]
        qa_explained = d.call("Explain", "s", "team:1.0")[0]
        qa_screen = tmux_srv.capture(qa)
    at, text = resumed[0]
    assert text == "continue" and at >= reset + MARGIN, (at, reset)
    assert entries(dev_log) == resumed  # once
    assert alert[0] == "info" and alert[3] == "team:0.0" and "continue" in alert[2]
    assert "resumed" in hook.messages()[0].body["title"]
    assert metrics["auto_resumes"] == 1
    assert entries(qa_log) == [] and "my own words" in qa_screen  # never over typed text
    assert qa_explained["auto_resume"].startswith("due, held: ")
    print(f"limit reset at {reset:.0f}; message submitted {at - reset:.1f} s after it (margin {MARGIN:.0f} s)")


def test_off_by_default(tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    reset = time.time() - 120  # reset two minutes ago: would be due at once if it were on
    log = tmp_path / "dev.log"
    tmux_srv.new_session("team", "Claude-developer",
                         f"bash --norc --noprofile -c '{LIMITED} {reset} {log}; exec bash --norc'")
    d = daemon(tmux_srv, resume_margin=0)
    d.wait_state("team:0.0", "rate_limited", timeout=30)
    time.sleep(2.0)
    assert entries(log) == []
    assert d.call("Explain", "s", "team:0.0")[0]["auto_resume"] == "off for role developer (auto_resume)"
    assert d.call("GetMetrics")[0]["auto_resumes"] == 0
