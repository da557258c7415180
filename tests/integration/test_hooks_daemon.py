"""A hook's event lands on the pane it came from, on the tmux server it came from, or nowhere.

Two private tmux servers; the daemon watches the first. A hook run inside a pane of the second server
(its ``$TMUX`` and ``$TMUX_PANE`` set by tmux itself) has the same ``%N`` as an agent of the first: the
daemon refuses it with a log line and the agent of the first server never sees it.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.harness.bus import wait_until
from tests.harness.daemon import TMUX_ORC, DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.integration.test_dbus_service import STANDIN, team

StartDaemon = Callable[..., DaemonProcess]
PERMISSION = {"session_id": "s1", "hook_event_name": "Notification", "notification_type": "permission_prompt",
              "message": "Claude needs your permission to use Bash"}


def hook_events(d: DaemonProcess, target: str) -> list[str]:
    return list(d.call("Explain", "s", target)[0]["hook_events"])


def test_a_hook_from_another_tmux_server_never_lands_here(
    tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path
) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state(panes["dev"], "working")
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = TmuxTestServer(other_dir)
    try:
        other.new_session("b", "Claude-pm", "sleep 600")
        rc, err = tmp_path / "rc", tmp_path / "err"
        script = (f"printf '%s' {shlex.quote(json.dumps(PERMISSION))} | "
                  f"DBUS_SESSION_BUS_ADDRESS={shlex.quote(d.address)} {shlex.quote(TMUX_ORC)} hook Notification "
                  f"2>{shlex.quote(str(err))}; echo $? > {shlex.quote(str(rc))}.tmp; mv {rc}.tmp {rc}")
        hook_pane = other.new_window("b", "hook", f"sh -c {shlex.quote(script)}")
        assert hook_pane == panes["dev"]  # the same %N on both servers
        wait_until(rc.exists, timeout=20, what="the hook run inside the other server")
        assert rc.read_text().strip() == "0"
        assert "this daemon watches" in err.read_text() and "(NotFound)" in err.read_text()
        wait_until(lambda: "refused: it comes from tmux server" in d.log(), what="the refusal in the log")
        assert hook_events(d, panes["dev"]) == []
    finally:
        other.kill()


def test_a_hook_from_the_watched_server_lands_on_its_pane(
    tmux_srv: TmuxTestServer, daemon: StartDaemon, tmp_path: Path
) -> None:
    panes = team(tmux_srv)
    d = daemon(tmux_srv)
    d.wait_state(panes["pm"], "idle")
    link = tmp_path / "link-to-socket"
    link.symlink_to(tmux_srv.socket)  # the same server under another name: compared after realpath
    env = {**d.env, "TMUX": f"{link},{tmux_srv.server_pid()},0", "TMUX_PANE": panes["pm"]}
    done = subprocess.run([TMUX_ORC, "hook", "Notification"], input=json.dumps(PERMISSION), env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert hook_events(d, panes["pm"])[0].startswith("Notification@")
    assert hook_events(d, panes["dev"]) == []
    wait_until(lambda: "hook Notification (permission_prompt)" in d.log(), what="the event in the log")
    codex = subprocess.run([TMUX_ORC, "hook", "codex-notify", json.dumps({"type": "agent-turn-complete"})],
                           env={**env, "TMUX_PANE": panes["dev"]}, capture_output=True, text=True, timeout=30,
                           check=False)
    assert (codex.returncode, codex.stderr) == (0, "")
    assert hook_events(d, panes["dev"])[0].startswith("agent-turn-complete@")


def test_a_hook_before_the_first_look_at_its_pane_is_kept_for_it(
    tmux_srv: TmuxTestServer, daemon: StartDaemon
) -> None:
    """SessionStart comes within a second of an agent's start, often before a cycle has seen the pane."""
    panes = team(tmux_srv)
    d = daemon(tmux_srv, interval=30)  # the first cycle is done; the next comes only when a hook asks
    d.wait_state(panes["pm"], "idle")
    new = tmux_srv.new_window("team", "Claude-qa", f"bash --norc --noprofile -c '{STANDIN} idle; exec bash'")
    env = {**d.env, "TMUX": f"{tmux_srv.socket},{tmux_srv.server_pid()},0", "TMUX_PANE": new}
    start = {"session_id": "s2", "hook_event_name": "SessionStart", "source": "startup"}
    done = subprocess.run([TMUX_ORC, "hook", "SessionStart"], input=json.dumps(start), env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    wait_until(lambda: any(a["pane_id"] == new for a in d.agents()), timeout=25, what="the woken cycle")
    assert hook_events(d, new)[0].startswith("SessionStart@")
    assert f"{new}: hook SessionStart kept until a cycle sees that pane" in d.log()
    unknown = subprocess.run([TMUX_ORC, "hook", "Stop"], env={**env, "TMUX": "", "TMUX_PANE": "%77"},
                             capture_output=True, text=True, timeout=30, check=False)
    assert unknown.returncode == 0 and "no agent matches '%77' (NotFound)" in unknown.stderr
