"""The real Gemini CLI and Qwen Code with the hooks ``tmux-orc hooks install`` wrote: their hooks reach the
daemon and the state follows them at once.

As in ``test_real_hooks.py`` (Claude Code): the daemon polls every :data:`INTERVAL` seconds and publishes
a screen state after two agreeing observations; a hook wakes a cycle at once and confirms what it reports,
so the approval dialog and the end of a turn are published well within one interval. Each CLI runs
through: start (SessionStart), a tool call that asks for approval (Gemini: Notification ToolPermission;
Qwen: PermissionRequest), Escape, then a slow turn (Gemini: BeforeAgent / AfterAgent; Qwen:
UserPromptSubmit / Stop). Then ``hooks uninstall`` gives back the settings the user had.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import TMUX_ORC, DaemonProcess
from tests.realagents import fake_anthropic as fa
from tests.realagents import gemini, qwen
from tests.realagents.cli_lab import CliAgent, CliLab
from tests.realagents.daemon_watch import agent_state, hook_events
from tests.realagents.fake_chat import ToolCall
from tests.realagents.harness import open_shell_session, require_daemon_and
from tmux_orc.cli.hooks import jsonhooks

pytestmark = pytest.mark.realagent

INTERVAL = 20.0  # the daemon's own polling: two of them before a state is published without a hook
HOOK_WAIT = 0.5 * INTERVAL  # a hook-driven state shows well before a second poll could confirm it


@dataclass(frozen=True)
class Cli:
    """What differs between the two CLIs in this test."""

    name: str
    binary: Callable[[], Path]
    lab: Callable[[Path], CliLab]
    settings_file: str  # under HOME
    write_settings: Callable[[Path, Path], None]  # the driver's offline settings
    env: Callable[[CliLab], dict[str, str]]
    command: str
    is_agent: Callable[[int], bool]
    wait_ready: Callable[[CliAgent], str]
    wait_busy: Callable[[CliAgent], str]
    permission_event: str  # the hook that says "an approval dialog is shown"
    turn_events: tuple[str, str]  # a prompt submitted, the turn done


def _gemini(release: str) -> Cli:
    return Cli(
        "gemini", lambda: gemini.gemini_bin(release),
        lambda root: gemini.GeminiLab(root, gemini.gemini_bin(release).parent), ".gemini/settings.json",
        gemini._settings,
        lambda lab: {"GEMINI_API_KEY": "fake-gemini-key", "GOOGLE_GEMINI_BASE_URL": lab.fake.base_url,
                     "GEMINI_CLI_NO_RELAUNCH": "1", "NO_BROWSER": "1"},
        f"gemini -m {gemini.MODEL}", gemini.is_gemini, gemini.wait_ready, gemini.wait_busy,
        "Notification", ("BeforeAgent", "AfterAgent"),
    )


CLIS = {
    "gemini": _gemini(gemini.GEMINI),
    f"gemini-{gemini.GEMINI_OLD}": _gemini(gemini.GEMINI_OLD),
    "qwen": Cli(
        "qwen", qwen.qwen_bin, qwen.QwenLab, ".qwen/settings.json", qwen._settings,
        lambda lab: {"OPENAI_API_KEY": "sk-fake-qwen", "OPENAI_BASE_URL": f"{lab.fake.base_url}/v1",
                     "OPENAI_MODEL": qwen.MODEL, "NO_BROWSER": "1"},
        f"qwen --auth-type openai --approval-mode default -m {qwen.MODEL}", qwen.is_qwen, qwen.wait_ready,
        qwen.wait_busy, "PermissionRequest", ("UserPromptSubmit", "Stop"),
    ),
}


def _tmux_orc(action: str, cli: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    for key in ("GEMINI_CLI_HOME", "QWEN_HOME"):
        env.pop(key, None)
    return subprocess.run([TMUX_ORC, "hooks", action, "--agent", cli], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.fixture(scope="module", params=list(CLIS))
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        session_bus: PrivateBus) -> Iterator[dict[str, Any]]:
    """One CLI through start -> approval dialog -> Escape -> a slow turn; what was seen on the way."""
    cli = CLIS[request.param]
    require_daemon_and(cli.binary(), request.param)
    root = tmp_path_factory.mktemp(f"hooks-{request.param}")
    seen: dict[str, Any] = {"cli": cli}

    def prepare(home: Path, project: Path) -> None:
        cli.write_settings(home, project)
        seen["before"] = (home / cli.settings_file).read_text()
        seen["install"] = _tmux_orc("install", cli.name, home)
        seen["status"] = _tmux_orc("status", cli.name, home)
        seen["settings"] = json.loads((home / cli.settings_file).read_text())

    with cli.lab(root / "lab") as lab:
        open_shell_session(lab.box, lab.session)
        daemon = DaemonProcess(session_bus.address, lab.box.socket, root, interval=INTERVAL,
                               notify_pm="false", auto_recover_pm="false").start()
        try:
            agent = lab.launch(f"{cli.name}-developer", cli.command,
                               {**cli.env(lab), "DBUS_SESSION_BUS_ADDRESS": session_bus.address},
                               [cli.binary().parent], cli.is_agent, prepare)
            pane_id = agent.pane.pane_id
            cli.wait_ready(agent)
            wait_until(lambda: any(a["pane_id"] == pane_id for a in daemon.agents()), timeout=INTERVAL + 15,
                       what="the daemon to find the agent")
            seen["target"] = daemon.call("GetAgent", "s", pane_id)[0]["target"]
            seen["start_events"] = hook_events(daemon, pane_id)

            lab.fake.push(ToolCall("run_shell_command", {"command": "touch probe.txt",
                                                         "description": "Create a probe file"}))
            agent.send("make a probe file")
            agent.pane.wait_regex(r"(?i)allow|proceed|approve")
            shown = time.monotonic()
            wait_until(lambda: agent_state(daemon, pane_id) == "waiting_input", timeout=HOOK_WAIT,
                       what="waiting_input after the permission hook")
            seen["permission_after"] = time.monotonic() - shown
            seen["permission_events"] = hook_events(daemon, pane_id)
            agent.pane.keys("Escape")
            cli.wait_ready(agent)
            lab.fake.clear()
            agent.pane.keys("C-u")  # Qwen Code puts a cancelled message back into the prompt
            time.sleep(0.5)

            lab.fake.push(fa.SlowStream(seconds=12))
            agent.send("say all done")
            cli.wait_busy(agent)
            wait_until(lambda: agent_state(daemon, pane_id) == "working", timeout=HOOK_WAIT,
                       what=f"working after {cli.turn_events[0]}")
            agent.pane.wait_text("tick", timeout=30)
            cli.wait_ready(agent, 60)
            done = time.monotonic()
            wait_until(lambda: agent_state(daemon, pane_id) == "idle"
                       and cli.turn_events[1] in hook_events(daemon, pane_id)[-2:],
                       timeout=HOOK_WAIT, what=f"idle after the {cli.turn_events[1]} hook")
            seen["idle_after"] = time.monotonic() - done
            seen["events"] = hook_events(daemon, pane_id)
            seen["screen"] = agent.pane.capture()
            seen["log"] = daemon.log()
            seen["during"] = (agent.home / cli.settings_file).read_text()  # the CLI may have written to it
            seen["uninstall"] = _tmux_orc("uninstall", cli.name, agent.home)
            seen["left"] = (agent.home / cli.settings_file).read_text()
        finally:
            daemon.stop()
    yield seen


def test_install_writes_hooks_the_cli_reads(run: dict[str, Any]) -> None:
    cli: Cli = run["cli"]
    assert run["install"].returncode == 0, run["install"].stderr
    assert f"{cli.name}: installed" in run["status"].stdout, run["status"].stdout
    handlers = [h for groups in run["settings"]["hooks"].values() for g in groups for h in g["hooks"]]
    assert f"{TMUX_ORC} hook {cli.permission_event} 2>/dev/null" in {h["command"] for h in handlers}


def test_hook_events_reach_the_daemon(run: dict[str, Any]) -> None:
    cli: Cli = run["cli"]
    assert "SessionStart" in run["start_events"], run["start_events"]
    assert cli.permission_event in run["permission_events"], run["permission_events"]
    for event in cli.turn_events:
        assert event in run["events"], run["events"]
    assert f"{run['target']}: hook {cli.permission_event}" in run["log"], run["log"][-3000:]
    assert "refused" not in run["log"]


def test_the_state_follows_the_hooks_at_once(run: dict[str, Any]) -> None:
    print(f"\n{run['cli'].name}: waiting_input {run['permission_after']:.2f} s after the dialog showed; "
          f"idle {run['idle_after']:.2f} s after the prompt came back (daemon interval {INTERVAL:g} s)")
    assert "-> waiting_input" in run["log"] and "-> idle" in run["log"]


def test_the_hook_says_nothing_on_screen(run: dict[str, Any]) -> None:
    """Our handler prints nothing the CLI could show (its stderr goes to /dev/null). Gemini CLI itself
    names a hook for 3 s after it ran (``Executing Hook: tmux-orc`` in its spinner's place: its
    ``hooksConfig.notifications``, the user's to turn off)."""
    assert "tmux-orc hook" not in run["screen"] and "not reported" not in run["screen"], run["screen"]


def test_uninstall_gives_back_the_users_settings(run: dict[str, Any]) -> None:
    assert run["uninstall"].returncode == 0, run["uninstall"].stderr
    assert "tmux-orc" not in run["left"]
    # The file as it was just before, our hooks taken out (the CLIs write settings of their own: Qwen Code
    # a "$version", Gemini CLI 0.30 "general.sessionRetention"), the user's own settings as they were.
    left, before = json.loads(run["left"]), json.loads(run["before"])
    assert left == jsonhooks.uninstall(json.loads(run["during"])), (run["uninstall"].stdout, run["left"])
    assert "hooks" not in left
    assert {key: left.get(key) for key in before if key != "general"} == {
        key: value for key, value in before.items() if key != "general"}
