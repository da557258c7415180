"""``tmux-orc hook`` never slows or breaks its agent: whatever the bus does it exits 0, prints nothing on
stdout and at most one warning line, and it never lets the bus start the daemon.

Buses here: none at all, a socket that accepts and never answers, a private dbus-daemon without the
daemon (with an activation file that would start one), and garbage or huge input. How long the hook
takes is measured by ``benchmarks/hook_bench.py``; these tests check what it does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.daemon import TMUX_ORC

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={runtime}/bus</listen>
  <servicedir>{services}</servicedir>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def hook(*argv: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the installed ``tmux-orc hook ...`` as Claude Code does (JSON on stdin, inside tmux)."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "TMUX", "TMUX_PANE"}}
    environment.update({"TMUX_PANE": "%3", "TMUX": "/tmp/tmux-test/default,1,0"})
    environment.update(env or {})
    return subprocess.run([TMUX_ORC, "hook", *argv], input=stdin, env=environment, capture_output=True,
                          timeout=30, check=False)


def assert_quiet_failure(done: subprocess.CompletedProcess[bytes], why: str) -> None:
    assert done.returncode == 0
    assert done.stdout == b""
    err = done.stderr.decode()
    assert err.startswith("tmux-orc hook: ") and err.count("\n") == 1, err
    assert why in err, err


@pytest.fixture
def silent_bus(tmp_path: Path) -> Iterator[str]:
    """A Unix socket that accepts connections and never says a word (a hung bus)."""
    path = tmp_path / "silent.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)  # kept open, never read, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"unix:path={path}"
    stop.set()
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    for conn in held:
        conn.close()
    thread.join(5)


@pytest.fixture
def runtime_bus(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A private dbus-daemon listening on ``<runtime>/bus`` that can activate org.tmuxorc.Monitor1
    (the activation only leaves a marker file). Yields (runtime dir, marker)."""
    runtime, services = tmp_path / "runtime", tmp_path / "services"
    runtime.mkdir(mode=0o700)
    services.mkdir()
    marker = tmp_path / "activated"
    (services / "org.tmuxorc.Monitor1.service").write_text(
        f"[D-BUS Service]\nName=org.tmuxorc.Monitor1\nExec=/bin/sh -c 'touch {marker}'\n"
    )
    config = tmp_path / "bus.conf"
    config.write_text(BUS_CONFIG.format(runtime=runtime, services=services))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip()
    yield runtime, marker
    proc.terminate()
    proc.wait(10)


def test_no_bus_at_all() -> None:
    done = hook("Notification", stdin=b'{"notification_type": "idle_prompt"}')
    assert_quiet_failure(done, "no session bus")


def test_a_bus_that_accepts_and_never_answers(silent_bus: str) -> None:
    done = hook("Notification", stdin=b'{"notification_type": "permission_prompt"}',
                env={"DBUS_SESSION_BUS_ADDRESS": silent_bus})
    assert_quiet_failure(done, "did not answer in time")


def test_bus_without_the_daemon_never_activates_it(runtime_bus: tuple[Path, Path]) -> None:
    runtime, marker = runtime_bus
    env = {"XDG_RUNTIME_DIR": str(runtime)}  # found as sd-bus finds it, no DBUS_SESSION_BUS_ADDRESS
    done = hook("Stop", stdin=b'{"hook_event_name": "Stop"}', env=env)
    assert_quiet_failure(done, "not running")
    assert not marker.exists()
    # The same bus does activate it for a command that may start the daemon: the file above is real.
    status = subprocess.run([TMUX_ORC, "monitor", "status"], env={**os.environ, **env, "DBUS_SESSION_BUS_ADDRESS": ""},
                            capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 3
    assert marker.exists()


@pytest.mark.parametrize(
    "stdin",
    [b"\x00\xff garbage \x1b[31m", b"{" * 100_000, json.dumps({"message": "x" * 5_000_000}).encode(), b""],
    ids=["garbage", "deep", "huge", "empty"],
)
def test_odd_input(silent_bus: str, stdin: bytes) -> None:
    done = hook("Notification", stdin=stdin, env={"DBUS_SESSION_BUS_ADDRESS": silent_bus})
    assert_quiet_failure(done, "Notification not reported")


def test_stdin_that_never_closes(silent_bus: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DBUS_SESSION_BUS_ADDRESS", "TMUX"}}
    env.update({"TMUX_PANE": "%3", "DBUS_SESSION_BUS_ADDRESS": silent_bus})
    with subprocess.Popen([TMUX_ORC, "hook", "Stop"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b'{"hook_event_name": ')  # and then nothing: the pipe stays open
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
        assert proc.stdout.read() == b""
        proc.stdin.close()


def test_outside_tmux() -> None:
    done = hook("Stop", env={"TMUX_PANE": "", "TMUX": ""})
    assert_quiet_failure(done, "TMUX_PANE is not set")
