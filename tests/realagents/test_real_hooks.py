"""The real Claude Code with the hooks ``tmux-orc hooks install`` wrote: its hooks reach the daemon and
the state follows them at once.

The daemon polls only every :data:`INTERVAL` seconds and publishes a screen state after two agreeing
observations, so without hooks a new state takes at least two intervals. A hook wakes a cycle at once
and confirms the state it reports on one observation: the permission dialog and the end of the turn are
published well within one interval. Claude Code runs with ``--debug-file`` (through a ``claude`` wrapper
first on its PATH) so the test also reads how each hook command ended.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import TMUX_ORC, TMUX_ORCD, DaemonProcess
from tests.realagents import claude
from tests.realagents import fake_anthropic as fa
from tests.realagents.daemon_watch import agent_state, hook_events
from tests.realagents.harness import HEIGHT, WIDTH

pytestmark = pytest.mark.realagent

INTERVAL = 20.0  # the daemon's own polling: two of them before a state is published without a hook
HOOK_WAIT = 0.5 * INTERVAL  # a hook-driven state shows well before a second poll could confirm it
WINDOW = "Claude-developer"
# Claude Code 2.x --debug-file: `Hooks: Stop [/x/tmux-orc hook Stop] finished with status 0 (120ms)`
HOOK_DONE = re.compile(r"\[[^\]]*tmux-orc hook (?P<event>\w+)\] (?:finished|completed) with status (?P<status>-?\d+)"
                       r"(?: \((?P<ms>\d+)ms\))?")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> Iterator[dict[str, Any]]:
    """Claude Code through prompt -> permission dialog -> Escape -> a text turn; what was seen on the way."""
    binary = claude.claude_bin(2)
    for tool in ("tmux", "dbus-daemon", "busctl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if not binary.exists() or not Path(TMUX_ORCD).exists():
        pytest.skip(f"Claude Code {claude.claude_version(2)} or tmux-orcd is not installed: run scripts/test")
    root = tmp_path_factory.mktemp("hooks")
    seen: dict[str, Any] = {}
    with claude.ClaudeLab(root / "lab") as lab:
        lab.box.tmux("new-session", "-d", "-s", lab.session, "-n", "shell", "-x", str(WIDTH), "-y", str(HEIGHT),
                     "bash", "--noprofile", "--norc", "-i")
        daemon = DaemonProcess(session_bus.address, lab.box.socket, root, interval=INTERVAL,
                               notify_pm="false", auto_recover_pm="false").start()
        try:
            home = lab.root / f"home-{WINDOW.lower()}"  # the HOME launch() gives this window
            home.mkdir(parents=True)
            env = {**os.environ, "HOME": str(home)}
            env.pop("CLAUDE_CONFIG_DIR", None)
            seen["install"] = subprocess.run([TMUX_ORC, "hooks", "install", "--agent", "claude"], env=env,
                                             capture_output=True, text=True, timeout=60, check=False)
            seen["status"] = subprocess.run([TMUX_ORC, "hooks", "status", "--agent", "claude"], env=env,
                                            capture_output=True, text=True, timeout=60, check=False)
            seen["settings"] = json.loads((home / ".claude" / "settings.json").read_text())
            debug = root / "claude-debug.txt"
            wrapper = root / "wrapper"
            wrapper.mkdir()
            (wrapper / "claude").write_text(f'#!/bin/sh\nexec {binary} --debug-file {debug} "$@"\n')
            (wrapper / "claude").chmod(0o755)
            agent = lab.launch(WINDOW, extra_env={
                "PATH": f"{wrapper}:{binary.parent}:/usr/local/bin:/usr/bin:/bin",
                "DBUS_SESSION_BUS_ADDRESS": session_bus.address,
            })
            pane_id = agent.pane.pane_id
            agent.wait_ready()
            # Found by the next cycle (its SessionStart hook, before that, is kept for the pane).
            wait_until(lambda: any(a["pane_id"] == pane_id for a in daemon.agents()), timeout=INTERVAL + 15,
                       what="the daemon to find the agent")
            seen["target"] = daemon.call("GetAgent", "s", pane_id)[0]["target"]
            agent.ask_before_tools()
            lab.fake.push(fa.ToolUse("touch hook-probe.txt", "Create a probe file"))
            agent.send("make a probe file")
            agent.pane.wait_text("Do you want to proceed?")
            shown = time.monotonic()
            wait_until(lambda: agent_state(daemon, pane_id) == "waiting_input", timeout=HOOK_WAIT,
                       what="waiting_input after the permission hook")
            seen["permission_after"] = time.monotonic() - shown
            seen["permission_events"] = hook_events(daemon, pane_id)
            agent.pane.keys("Escape")
            agent.wait_ready()
            lab.fake.clear()
            lab.fake.push(fa.SlowStream(seconds=12))
            agent.send("say all done")
            agent.wait_working()
            wait_until(lambda: agent_state(daemon, pane_id) == "working", timeout=HOOK_WAIT,
                       what="working after UserPromptSubmit")
            agent.pane.wait_text("tick", timeout=30)
            agent.wait_ready(timeout=60)
            done = time.monotonic()
            wait_until(lambda: agent_state(daemon, pane_id) == "idle" and "Stop" in hook_events(daemon, pane_id)[-1:],
                       timeout=HOOK_WAIT, what="idle after the Stop hook")
            seen["idle_after"] = time.monotonic() - done
            seen["events"] = hook_events(daemon, pane_id)
            seen["log"] = daemon.log()
            seen["debug"] = debug.read_text(errors="replace") if debug.exists() else ""
            seen["uninstall"] = subprocess.run([TMUX_ORC, "hooks", "uninstall", "--agent", "claude"], env=env,
                                               capture_output=True, text=True, timeout=60, check=False)
            left = home / ".claude" / "settings.json"  # Claude Code may have written settings of its own since
            seen["left"] = left.read_text() if left.exists() else ""
        finally:
            daemon.stop()
    yield seen


def test_install_writes_hooks_this_claude_reads(run: dict[str, Any]) -> None:
    assert run["install"].returncode == 0, run["install"].stderr
    assert "claude: installed" in run["status"].stdout
    handlers = [h for groups in run["settings"]["hooks"].values() for g in groups for h in g["hooks"]]
    assert {h["command"] for h in handlers} >= {f"{TMUX_ORC} hook Notification", f"{TMUX_ORC} hook Stop"}


def test_hook_events_reach_the_daemon(run: dict[str, Any]) -> None:
    events = run["events"]
    # (the permission_prompt Notification comes some 6 s after the dialog: Escape is pressed before it)
    for event in ("SessionStart", "UserPromptSubmit", "PermissionRequest", "Stop"):
        assert event in events, events
    assert "PermissionRequest" in run["permission_events"], run["permission_events"]
    assert f"{run['target']}: hook PermissionRequest" in run["log"], run["log"][-3000:]
    assert "refused" not in run["log"]


def test_the_state_follows_the_hooks_at_once(run: dict[str, Any]) -> None:
    print(f"\nwaiting_input {run['permission_after']:.2f} s after the dialog showed; "
          f"idle {run['idle_after']:.2f} s after the prompt came back (daemon interval {INTERVAL:g} s)")
    assert re.search(r"-> waiting_input", run["log"]) and re.search(r"-> idle", run["log"])


def test_every_hook_command_exited_0(run: dict[str, Any]) -> None:
    """Claude Code's own debug log says how each of our hook commands ended, and how long it took."""
    ended = [m.groupdict() for m in HOOK_DONE.finditer(run["debug"])]
    print("\n" + "\n".join(f"{e['event']}: status {e['status']} ({e['ms'] or '?'} ms)" for e in ended))
    assert {e["event"] for e in ended} >= {"UserPromptSubmit", "PermissionRequest", "Stop"}, run["debug"][-3000:]
    assert all(e["status"] == "0" for e in ended), ended


def test_uninstall_leaves_nothing(run: dict[str, Any]) -> None:
    assert run["uninstall"].returncode == 0, run["uninstall"].stderr
    assert "tmux-orc" not in run["left"], (run["uninstall"].stdout, run["left"])
