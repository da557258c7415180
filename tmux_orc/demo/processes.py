"""Child processes of the demo: started with a clean environment, stopped by the PID we hold."""

from __future__ import annotations

import contextlib
import ctypes
import select
import signal
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from tmux_orc.tmux.runner import clean_environment

STOP_WAIT_SECONDS = 5.0
BUS_START_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={directory}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class ManagedProcess:
    """A process this demo started and must stop."""

    def __init__(self, popen: subprocess.Popen[bytes], name: str) -> None:
        self.popen = popen
        self.name = name

    @property
    def pid(self) -> int:
        """The PID of the process (the one this demo stops)."""
        return self.popen.pid

    def exited(self) -> bool:
        """True once the process has exited."""
        return self.popen.poll() is not None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it is still there after a few seconds; always reaped."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait()
        for stream in (self.popen.stdout, self.popen.stderr):
            if stream is not None:
                stream.close()


def child_environment(*, drop_prefix: str | None = None, **overrides: str) -> dict[str, str]:
    """This process's environment without service/tmux leftovers (and variables starting with
    ``drop_prefix``), plus ``overrides``."""
    env = {
        name: value
        for name, value in clean_environment().items()
        if name != "TMUX_PANE" and not (drop_prefix and name.startswith(drop_prefix))
    }
    env.update(overrides)
    return env


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the demo itself is killed, so nothing is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start_process(argv: list[str], *, env: dict[str, str], stderr_path: Path, name: str) -> ManagedProcess:
    """Start ``argv`` in a session of its own, stderr appended to ``stderr_path``, stopped if the demo dies."""
    with stderr_path.open("ab") as stderr:
        popen = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # Ctrl-C in the user's terminal reaches only the demo, which stops us
            preexec_fn=_die_with_parent,
        )
    return ManagedProcess(popen, name)


def start_bus(directory: Path) -> tuple[ManagedProcess, str]:
    """A private session bus listening in ``directory``; returns it and its address."""
    config = directory / "bus.conf"
    config.write_text(BUS_CONFIG.format(directory=escape(str(directory))), encoding="utf-8")
    popen = subprocess.Popen(
        ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
        env=child_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    bus = ManagedProcess(popen, "dbus-daemon")
    assert popen.stdout is not None
    ready, _, _ = select.select([popen.stdout], [], [], BUS_START_SECONDS)
    address = popen.stdout.readline().decode("utf-8", errors="replace").strip() if ready else ""
    if not address:
        bus.stop()
        raise OSError("the demo's dbus-daemon did not print its address")
    return bus, address


def tmux_server_pid(socket: Path) -> int | None:
    """PID of the tmux server listening on ``socket`` (the demo's own), or None."""
    with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
        done = subprocess.run(
            ["tmux", "-S", str(socket), "display-message", "-p", "#{pid}"],
            env=child_environment(),
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if done.returncode == 0:
            return int(done.stdout.strip())
    return None
