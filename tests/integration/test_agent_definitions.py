"""A CLI tmux-orc does not ship, defined by its user in a TOML file, watched by the real daemon."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.bus import BusctlError, PrivateBus
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.unit.test_definitions import MYCLI

StartDaemon = Callable[..., DaemonProcess]

# A CLI that draws its own prompt: a bash script, recognised by its name, "thinking" on `work`.
SCRIPT = """#!/bin/bash
echo 'My CLI 1.0 (a stand-in CLI of the user s own)'
while true; do
  read -r -p 'mycli> ' line || exit 0
  if [ "$line" = work ]; then echo 'mycli is thinking...'; sleep 600; fi
done
"""


def make_cli(tmp_path: Path) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mycli"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "mycli.toml").write_text(MYCLI)
    return script, agents


def test_a_users_own_cli_is_recognised_and_named_right(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                      tmp_path: Path) -> None:
    script, agents = make_cli(tmp_path)
    pane = tmux_srv.new_session("team", "Claude-dev", f"bash --norc --noprofile -c '{script}; exec bash'")
    tmux_srv.wait_for(pane, "mycli>")
    d = daemon(tmux_srv, agents_dir=agents)
    agent = d.wait_state("team:0.0", "idle")
    assert agent["kind"] == "mycli"
    kinds = {k["name"]: k for k in d.call("ListAgentKinds")[0]}
    assert kinds["mycli"]["source"] == str(agents / "mycli.toml") and kinds["mycli"]["resume"] == "mycli --again"
    assert kinds["claude"]["source"].startswith("built-in")
    tmux_srv.send_keys(pane, "-l", "fix the bug")
    d.wait_state("team:0.0", "unsubmitted")
    tmux_srv.send_keys(pane, "C-u")
    tmux_srv.send_keys(pane, "-l", "work")
    tmux_srv.send_keys(pane, "Enter")
    d.wait_state("team:0.0", "working")
    explained = d.call("Explain", "s", "team:0.0")[0]
    assert explained["rule"] == "mycli.thinking"
    table = d.cli("agents", "--kinds")
    assert table.returncode == 0, table.stderr
    line = next(row for row in table.stdout.splitlines() if row.startswith("mycli "))
    assert "mycli --again" in line and line.endswith(str(agents / "mycli.toml"))
    listed = json.loads(d.cli("agents", "--kinds", "--json").stdout)
    assert [k["name"] for k in listed][:2] == ["claude", "codex"] and listed[-1]["name"] == "mycli"


def test_a_bad_definition_stops_the_daemon_with_one_line(tmux_srv: TmuxTestServer, session_bus: PrivateBus,
                                                         tmp_path: Path) -> None:
    _script, agents = make_cli(tmp_path)
    (agents / "broken.toml").write_text(MYCLI.replace('name = "mycli"', 'name = "broken"')
                                        .replace('state = "working"', 'state = "busy"'))
    tmux_srv.new_session("team")
    (tmp_path / "d").mkdir()
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path / "d", agents_dir=agents)
    d.start(wait=False)
    assert d.proc is not None and d.proc.wait(20) == 78
    lines = [line for line in d.log().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert str(agents / "broken.toml") in lines[0] and "rules[0].state = 'busy'" in lines[0]


def test_reload_with_a_broken_definition_keeps_the_running_ones(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                                tmp_path: Path) -> None:
    script, agents = make_cli(tmp_path)
    tmux_srv.new_session("team", "Claude-dev", f"bash --norc --noprofile -c '{script}; exec bash'")
    d = daemon(tmux_srv, agents_dir=agents)
    d.wait_state("team:0.0", "idle")
    (agents / "mycli.toml").write_text("name = 3\n")
    with pytest.raises(BusctlError, match=r"reload refused: .*mycli\.toml: name = 3"):
        d.call("Reload")
    time.sleep(1.0)
    assert d.agent("team:0.0")["kind"] == "mycli"
