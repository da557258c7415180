"""Alerts reaching the PM's pane and D-Bus clients, and PM recovery, against the live daemon."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.signals import SignalRecorder
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")
CODEX_STANDIN = str(Path(STANDIN).with_name("codex"))
StartDaemon = Callable[..., DaemonProcess]


def shell_running(command: str, log: Path | None = None) -> str:
    """A pane command as a user would have it: a shell that runs the agent, and stays when it exits."""
    env = f"STANDIN_LOG={log} " if log else ""
    return f"bash --norc --noprofile -c '{env}{command}; exec bash --norc --noprofile'"


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("stage", ["off", "full"])
def test_crash_alert_reaches_pm_once_and_dbus(tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path,
                                              stage: str) -> None:
    pm_log = tmp_path / "pm.log"
    tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} idle", pm_log))
    tmux_srv.new_window("team", "Claude-developer", shell_running(f"{STANDIN} exit-after 3"))
    d = daemon(tmux_srv, alert_cooldown=600, rollout_stage=stage, rollout_auto="false")
    with SignalRecorder(d.address) as signals:
        d.wait_state("team:1.0", "idle")
        alert = signals.wait_for("Alert", lambda b: b[3] == "team:1.0" and "crashed" in b[1])
        assert alert[0] == "critical"
        wait_until(lambda: len(lines(pm_log)) >= 1, timeout=20, what="the alert in the PM's prompt")
        time.sleep(2.0)  # more cycles: the alert must not come again
    received = lines(pm_log)
    assert len(received) == 1, received
    assert received[0].startswith("[tmux-orc]") and "team:1.0" in received[0] and "crashed" in received[0]
    wait_until(lambda: d.agent("team:0.0")["state"] == "idle", what="PM idle again (message submitted)")
    metrics = d.call("GetMetrics")[0]
    assert metrics["pm_messages_submitted"] == 1 and metrics["alerts_raised"] >= 1


def test_codex_pm_showing_its_suggestion_receives_alerts(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                         tmp_path: Path) -> None:
    """Codex shows a suggestion in its empty prompt: detection calls it idle, so delivery pastes into it."""
    pm_log = tmp_path / "pm.log"
    pm = tmux_srv.new_session("team", "Claude-pm", shell_running(f"{CODEX_STANDIN} idle", pm_log))
    tmux_srv.wait_for(pm, "Use /skills to list available skills")
    tmux_srv.new_window("team", "Claude-developer", shell_running(f"{STANDIN} exit-after 3"))
    d = daemon(tmux_srv, alert_cooldown=600)
    d.wait_state("team:0.0", "idle")
    assert d.agent("team:0.0")["kind"] == "codex"
    wait_until(lambda: len(lines(pm_log)) >= 1, timeout=20, what="the alert in the Codex PM's prompt")
    assert "team:1.0" in lines(pm_log)[0] and "crashed" in lines(pm_log)[0]
    wait_until(lambda: d.call("GetMetrics")[0]["pm_messages_submitted"] == 1, what="the message seen submitted")


def test_typed_text_in_pm_prompt_is_never_touched(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                  tmp_path: Path) -> None:
    pm_log = tmp_path / "pm.log"
    pm = tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} idle", pm_log))
    tmux_srv.wait_for(pm, "auto mode on")
    tmux_srv.send_keys(pm, "-l", "half-written thought")
    tmux_srv.new_window("team", "Claude-qa", shell_running(f"{STANDIN} exit-after 2"))
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "unsubmitted")
    with SignalRecorder(d.address) as signals:
        signals.wait_for("Alert", lambda b: b[3] == "team:1.0")
        time.sleep(2.0)
    assert lines(pm_log) == []  # nothing was submitted for the person typing
    assert "half-written thought" in tmux_srv.capture(pm)
    assert "[tmux-orc]" not in tmux_srv.capture(pm)
    tmux_srv.send_keys(pm, "C-u")  # the person clears the prompt: the held alert goes out now
    wait_until(lambda: len(lines(pm_log)) == 1, timeout=20, what="the held alert after the prompt emptied")
    assert "team:1.0" in lines(pm_log)[0]


def test_crashed_pm_is_respawned_and_announced(tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path) -> None:
    dev_log = tmp_path / "dev.log"
    tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} exit-after 3"))
    tmux_srv.new_window("team", "Claude-developer", shell_running(f"{STANDIN} idle", dev_log))
    d = daemon(tmux_srv, pm_spawn_command=f"{STANDIN} idle", recovery_confirmations=2, recovery_grace=5,
               starting_after=15)
    with SignalRecorder(d.address) as signals:
        finished = signals.wait_for("RecoveryFinished", timeout=40)
        assert finished[1] == "team:0.0" and finished[2] is True, finished
    windows = tmux_srv.run("list-windows", "-t", "team", "-F", "#{window_index} #{window_name}").split("\n")
    assert sum(1 for w in windows if w.endswith(" Claude-pm")) == 1  # the crashed pane was replaced
    new_pm = wait_until(lambda: [a for a in d.agents() if a["role"] == "pm" and a["state"] == "idle"],
                        what="the new PM idle")[0]
    assert new_pm["target"] != "team:0.0"
    wait_until(lambda: any("restarted" in line for line in lines(dev_log)), timeout=20,
               what="the team note about the restarted PM")
    metrics = d.call("GetMetrics")[0]
    assert metrics["recoveries_succeeded"] == 1


def test_crash_loop_gives_up_after_max_attempts(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} exit-after 1"))
    d = daemon(tmux_srv, pm_spawn_command=f"{STANDIN} exit-after 1", recovery_confirmations=2,
               recovery_grace=2, recovery_cooldown=0.5, recovery_max_attempts=2, starting_after=10)
    with SignalRecorder(d.address) as signals:
        signals.wait_for("Alert", lambda b: "keeps crashing" in b[1], timeout=60)
        time.sleep(4.0)
        finished = signals.of("RecoveryFinished")
    assert len(finished) == 2  # exactly max_attempts, then it stops fighting
    assert d.call("GetMetrics")[0]["recoveries_started"] == 2


def test_flapping_agent_is_not_recovered(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    # The PM's program restarts itself at once each time it exits: never confirmed crashed.
    loop = f"bash --norc --noprofile -c 'while true; do {STANDIN} exit-after 0.7; done'"
    tmux_srv.new_session("team", "Claude-pm", loop)
    d = daemon(tmux_srv, pm_spawn_command=f"{STANDIN} idle", recovery_confirmations=4)
    time.sleep(6.0)
    assert d.call("GetMetrics")[0]["recoveries_started"] == 0
    assert len(tmux_srv.run("list-windows", "-t", "team").splitlines()) == 1


def test_restart_keeps_state_and_sends_no_duplicate_alerts(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                          tmp_path: Path) -> None:
    pm_log = tmp_path / "pm.log"
    tmux_srv.new_session("team", "Claude-pm", shell_running(f"{STANDIN} idle", pm_log))
    tmux_srv.new_window("team", "Claude-qa", shell_running(f"{STANDIN} exit-after 1"))
    d = daemon(tmux_srv, alert_cooldown=600)
    crashed = d.wait_state("team:1.0", "crashed")
    wait_until(lambda: len(lines(pm_log)) == 1, timeout=20, what="the first alert")
    d.stop()
    assert (d.state_dir / "state.json").stat().st_mode & 0o777 == 0o600
    d2 = daemon(tmux_srv, alert_cooldown=600)
    again = d2.wait_state("team:1.0", "crashed")
    assert again["state_since"] == crashed["state_since"]
    time.sleep(2.5)
    assert len(lines(pm_log)) == 1  # the restarted daemon remembered it had told the PM
