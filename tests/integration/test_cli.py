"""Every ``tmux-orc`` command against the live daemon, over a private bus and a private tmux server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.harness.daemon import TMUX_ORC, DaemonProcess
from tests.harness.tmux import TmuxTestServer

STANDIN = str(Path(__file__).resolve().parents[1] / "harness" / "bin" / "claude")

StartDaemon = Callable[..., DaemonProcess]


def team(tmux: TmuxTestServer, session: str = "team") -> dict[str, str]:
    """A PM (idle) and a developer (working), each the stand-in agent under a shell."""
    pm = tmux.new_session(session, "Claude-pm", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash --norc'")
    dev = tmux.new_window(session, "Claude-developer", f"bash --norc --noprofile -c '{STANDIN} working; exec bash'")
    return {"pm": pm, "dev": dev}


def cli_json(d: DaemonProcess, *args: str) -> object:
    done = d.cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_and_agents(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    d.wait_state("team:1.0", "working")

    status = cli_json(d, "monitor", "status")
    assert isinstance(status, dict)
    assert status["running"] is True and status["tmux_connected"] is True
    assert status["agents"] == 2 and status["rollout_stage"] == "full"  # the default: the new strategy
    text = d.cli("monitor", "status")
    assert text.returncode == 0 and text.stdout.splitlines()[0].split() == ["running:", "yes"]

    listing = cli_json(d, "agents")
    assert isinstance(listing, list)
    by_target = {agent["target"]: agent for agent in listing}
    assert by_target["team:0.0"]["state"] == "idle" and by_target["team:0.0"]["role"] == "pm"
    assert by_target["team:0.0"]["pane_id"] == panes["pm"]
    assert by_target["team:1.0"]["state"] == "working" and by_target["team:1.0"]["kind"] == "claude"
    assert isinstance(by_target["team:0.0"]["state_since"], float)

    table = d.cli("agents").stdout.splitlines()
    assert table[0].split() == ["TARGET", "ROLE", "KIND", "STATE", "SINCE", "DETAIL"]
    assert table[1].split()[:4] == ["team:0.0", "pm", "claude", "idle"]
    assert table[2].split()[:4] == ["team:1.0", "developer", "claude", "working"]


def test_rollout_show_set_and_invalid(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv, rollout_auto="false", rollout_stage="off")
    shown = cli_json(d, "monitor", "rollout")
    assert isinstance(shown, dict)
    assert shown["stage"] == "off"
    assert "sessions" in shown
    changed = d.cli("monitor", "rollout", "canary")
    assert (changed.returncode, changed.stdout) == (0, "rollout stage: canary (was off)\n")
    assert cli_json(d, "monitor", "rollout", "full") == {"stage": "full", "previous": "canary"}
    assert d.cli("monitor", "rollout").stdout.splitlines()[0].split() == ["stage:", "full"]
    bad = d.cli("monitor", "rollout", "sideways")
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and bad.stderr.rstrip().endswith("(InvalidArgument)")


def test_recover_unknown_and_not_crashed(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    missing = d.cli("monitor", "recover", "nosuch:9")
    assert missing.returncode == 1
    assert missing.stderr.rstrip().endswith("(NotFound)")
    healthy = d.cli("monitor", "recover", "team:0.0", "--wait", "--timeout", "5")
    assert healthy.returncode == 1, healthy.stdout  # a healthy PM is not recovered
    assert healthy.stderr.startswith("error: ")


def test_recover_wait_brings_a_crashed_pm_back(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team", "Claude-pm", f"bash --norc --noprofile -c '{STANDIN} exit-after 1; exec bash --norc'")
    d = daemon(tmux_srv, auto_recover_pm="false", pm_spawn_command=f"{STANDIN} idle")
    d.wait_state("team:0.0", "crashed")
    done = d.cli("monitor", "recover", "team:0.0", "--wait", "--timeout", "60", timeout=90)
    assert done.returncode == 0, (done.stdout, done.stderr, d.log()[-2000:])
    assert "started for team:0.0" in done.stdout
    assert "succeeded" in done.stdout


def test_explain(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:1.0", "working")
    text = d.cli("explain", "team:1.0")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("team:1.0 is working")
    assert "rule:" in text.stdout
    data = cli_json(d, "explain", "team:Claude-developer")
    assert isinstance(data, dict)
    assert data["state"] == "working" and data["rule"]
    assert isinstance(data["evidence"], list) and isinstance(data["facts"], dict)
    assert data["facts"]["kind"] == "claude"
    missing = d.cli("explain", "nosuch:1")
    assert missing.returncode == 1 and missing.stderr.rstrip().endswith("(NotFound)")


def test_hook_reports_through_tmux_pane(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    payload = json.dumps({"hook_event_name": "Notification", "message": "Claude is waiting for your input"})
    env = dict(d.env, TMUX_PANE=panes["pm"])
    done = subprocess.run(
        [TMUX_ORC, "hook", "Notification"], input=payload, env=env, capture_output=True, text=True, timeout=30
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    explained = cli_json(d, "explain", panes["pm"])
    assert isinstance(explained, dict)
    assert any(str(event).startswith("Notification@") for event in explained.get("hook_events", []))
    # an unknown pane or a bad event name: still exit 0, one warning line
    for target, event in (("%999", "Stop"), (panes["pm"], "bad event!")):
        odd = subprocess.run(
            [TMUX_ORC, "hook", event], input="", env=dict(d.env, TMUX_PANE=target),
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert odd.returncode == 0 and odd.stdout == ""
        assert odd.stderr.startswith("tmux-orc hook: ") and odd.stderr.count("\n") == 1


def test_start_stop_reload_and_metrics(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    assert d.cli("monitor", "stop").returncode == 0
    status = cli_json(d, "monitor", "status")
    assert isinstance(status, dict) and status["running"] is False
    paused = d.cli("monitor", "recover", "team:0.0")
    assert paused.returncode == 1 and paused.stderr.rstrip().endswith("(NotRunning)")
    assert d.cli("monitor", "start").returncode == 0
    status = cli_json(d, "monitor", "status")
    assert isinstance(status, dict) and status["running"] is True
    assert d.cli("monitor", "reload").returncode == 0
    metrics = cli_json(d, "monitor", "metrics")
    assert isinstance(metrics, dict)
    for key in ("cycle_ms_p50", "cycle_ms_p95", "cycle_ms_max", "cycles", "rss_bytes"):
        assert key in metrics, key
    assert "cycle_ms_p95:" in d.cli("monitor", "metrics").stdout


def test_agents_watch_shows_changes_and_stops_on_ctrl_c(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    proc = subprocess.Popen(
        [TMUX_ORC, "agents", "--watch", "--interval", "0.5"],
        env=d.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.0)
        tmux_srv.new_window("team", "Claude-qa", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash'")
        d.wait_state("team:2.0", "idle", "starting", "unknown")
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.count("TARGET") >= 3
    assert "team:2.0" in out.split("TARGET")[-1]  # the new agent shows in the last frame


def test_exit_3_once_the_daemon_is_gone(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    team(tmux_srv)
    d = daemon(tmux_srv)
    assert d.cli("agents").returncode == 0
    d.stop()
    for args in (("agents",), ("monitor", "status", "--json"), ("explain", "team:0.0")):
        done = d.cli(*args)
        assert done.returncode == 3, (args, done.stderr)
        assert "systemctl --user start tmux-orc" in done.stderr
    hook = subprocess.run(
        [TMUX_ORC, "hook", "Stop"], input="{}", env=dict(d.env, TMUX_PANE="%1"),
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert hook.returncode == 0 and "not reported" in hook.stderr


def test_logs_uses_journalctl_by_identifier(tmp_path: Path) -> None:
    """``monitor logs`` execs journalctl; a stand-in on PATH records the arguments it got."""
    recorder = tmp_path / "journalctl"
    recorder.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\n')
    recorder.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([TMUX_ORC, "monitor", "logs", "-n", "5"], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "args").read_text().split() == ["--no-pager", "SYSLOG_IDENTIFIER=tmux-orc", "--lines", "5"]
