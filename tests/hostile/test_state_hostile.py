"""The real daemon with a hostile state directory: NaN in the file, 50,000 stale agents, links, a
directory in place of the file, a full or read-only disk; and a 1 MB argument over D-Bus."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.harness.bus import PrivateBus, raw_call, wait_until
from tests.harness.daemon import DaemonProcess
from tests.harness.tmux import TmuxTestServer
from tests.hostile.faults_helpers import STANDIN
from tmux_orc.core.persistence import MAX_REMEMBERED
from tmux_orc.service import names

StartDaemon = Callable[..., DaemonProcess]


def _state(directory: Path, text: str) -> Path:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / "state.json"
    path.write_text(text)
    path.chmod(0o600)
    return path


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def _agent_pane(tmux: TmuxTestServer) -> None:
    tmux.new_session("team", "Claude-pm", f"bash --norc -c '{STANDIN} idle; exec bash'")


def test_nan_in_the_state_file_never_reaches_clients_or_the_disk(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                                 tmp_path: Path) -> None:
    _agent_pane(tmux_srv)
    path = _state(tmp_path / "state", '{"schema_version": 1, "saved_at": NaN, "agents": {'
                  '"team:0.0": {"state": "idle", "state_since": 1.0, "last_activity": Infinity},'
                  '"gone:0.0": {"state": "idle", "state_since": NaN}}, "alert_cooldowns": {"k": -Infinity}}')
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    listed = d.cli("agents", "--json")
    assert listed.returncode == 0, listed.stderr
    _strict(listed.stdout)
    wait_until(lambda: "NaN" not in path.read_text() and "Infinity" not in path.read_text(), timeout=20,
               what="the state file rewritten without NaN")
    saved = _strict(path.read_text())
    assert isinstance(saved, dict) and "gone:0.0" not in saved["agents"]
    assert "not finite" in d.log()


def test_fifty_thousand_stale_agents_are_forgotten(tmux_srv: TmuxTestServer, daemon: StartDaemon,
                                                   tmp_path: Path) -> None:
    _agent_pane(tmux_srv)
    now = time.time()
    agents = {f"s{n}:0.0": {"state": "idle", "state_since": now - n, "last_activity": now - n}
              for n in range(50_000)}
    path = _state(tmp_path / "state", json.dumps({"schema_version": 1, "agents": agents}))
    d = daemon(tmux_srv)
    d.wait_state("team:0.0", "idle")
    assert "forgot 49000 agents of the state file" in d.log()

    def saved_agents() -> int:
        with contextlib.suppress(ValueError):  # read between two writes: try again
            return len(json.loads(path.read_text())["agents"])
        return -1

    wait_until(lambda: 0 < saved_agents() <= MAX_REMEMBERED + 1, timeout=20, what="a smaller state file")
    assert d.call("GetStatus")[0]["agents"] == 1


def test_hard_linked_state_file_exits_78_and_leaves_the_target(tmux_srv: TmuxTestServer, session_bus: PrivateBus,
                                                                tmp_path: Path) -> None:
    tmux_srv.new_session("team")
    precious = tmp_path / "precious.json"
    precious.write_text("{}")
    precious.chmod(0o644)
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path)
    d.state_dir.mkdir(mode=0o700)
    os.link(precious, d.state_dir / "state.json")
    d.start(wait=False)
    assert d.proc is not None and d.proc.wait(20) == 78
    assert "hard links" in d.log()
    assert stat.S_IMODE(precious.stat().st_mode) == 0o644 and precious.read_text() == "{}"


def test_symlinked_state_directory_exits_78_unchanged(tmux_srv: TmuxTestServer, session_bus: PrivateBus,
                                                       tmp_path: Path) -> None:
    tmux_srv.new_session("team")
    real = tmp_path / "real"
    real.mkdir()
    real.chmod(0o755)
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path)
    d.state_dir.symlink_to(real)
    d.start(wait=False)
    assert d.proc is not None and d.proc.wait(20) == 78
    assert "is a symlink; refusing to follow it" in d.log()
    assert stat.S_IMODE(real.stat().st_mode) == 0o755 and not list(real.iterdir())


def test_directory_in_place_of_state_json_is_a_clear_message(tmux_srv: TmuxTestServer, session_bus: PrivateBus,
                                                              tmp_path: Path) -> None:
    tmux_srv.new_session("team")
    d = DaemonProcess(session_bus.address, tmux_srv.socket, tmp_path)
    (d.state_dir / "state.json").mkdir(parents=True)
    d.state_dir.chmod(0o700)
    d.start(wait=False)
    assert d.proc is not None and d.proc.wait(20) == 78
    assert "state.json is a directory" in d.log() and "Errno 21" not in d.log()


@contextlib.contextmanager
def _mounted(directory: Path, options: str) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(directory)],
                          capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, timeout=20)


def _write_errors(d: DaemonProcess) -> int:
    return sum("cannot save state" in line for line in d.log().splitlines())


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a full / read-only tmpfs needs root")
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_unwritable_state_dir_logs_once_and_keeps_state_in_memory(fault: str, tmux_srv: TmuxTestServer,
                                                                  daemon: StartDaemon, tmp_path: Path) -> None:
    _agent_pane(tmux_srv)
    state_dir = tmp_path / "state"
    with _mounted(state_dir, "size=8k,mode=0700"):
        if fault == "full":
            with contextlib.suppress(OSError), open(state_dir / "filler", "wb") as filler:
                filler.write(b"x" * 65536)
        d = daemon(tmux_srv, wait=False)
        if fault == "read-only":
            wait_until(lambda: (state_dir / "state.json").exists(), timeout=20, what="a first save")
            subprocess.run(["mount", "-o", "remount,ro", str(state_dir)], check=True, timeout=20)
        # a new agent: the state changes, so each cycle tries to save again
        tmux_srv.new_window("team", "Claude-dev", f"bash --norc -c '{STANDIN} idle; exec bash'")
        wait_until(lambda: _write_errors(d) >= 1 or (d.proc is not None and d.proc.poll() is not None),
                   timeout=30, what="a failed save")
        d.wait_state("team:1.0", "idle")
        cycles = d.call("GetStatus")[0]["cycles"]
        wait_until(lambda: d.call("GetStatus")[0]["cycles"] >= cycles + 6, timeout=30, what="6 more cycles")
        assert _write_errors(d) == 1, d.log()[-2000:]
        assert {a["id"] for a in d.agents()} == {"team:0.0", "team:1.0"}
        assert d.proc is not None and d.proc.poll() is None


def test_a_one_megabyte_argument_is_not_quoted_back(tmux_srv: TmuxTestServer, daemon: StartDaemon) -> None:
    tmux_srv.new_session("team")
    d = daemon(tmux_srv)
    huge = "x" * 1_000_000
    for member, signature, body in (("GetAgent", "s", [huge]), ("Explain", "s", [huge]),
                                    ("SetRolloutStage", "s", [huge]), ("Recover", "sa{sv}", [huge, {}]),
                                    ("ReportEvent", "ssa{sv}", ["%0", huge, {}])):
        error, reply = raw_call(d.address, member, signature, body)
        assert error.startswith(names.ERROR_PREFIX), (member, error)
        assert len(reply[0]) <= 500, (member, len(reply[0]))
