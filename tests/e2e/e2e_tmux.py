"""A user's tmux server for the e2e suite, started the way a terminal would: in a scope of its own."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from tests.e2e.e2e_harness import UserManager, pid_alive, wait_for


class TmuxServer:
    """A tmux server on a private socket, started in its own ``systemd-run --user --scope``."""

    def __init__(self, manager: UserManager, name: str) -> None:
        self.manager = manager
        self.name = name
        self.socket = manager.root / f"{name}.sock"
        self.pid = 0

    def tmux(self, *args: str, check: bool = True) -> str:
        argv = ["tmux", "-S", str(self.socket), *args]
        return self.manager.run(argv, check=check, timeout=15).stdout.strip()

    def start(self, session: str, windows: list[tuple[str, str]]) -> TmuxServer:
        """Start the server with ``session`` holding ``windows`` (name, command) in a scope unit."""
        (first_name, first_command), *rest = windows
        self.manager.run([
            "systemd-run", "--user", "--scope", "--quiet", f"--unit=orc-e2e-{self.name}", "--",
            "tmux", "-S", str(self.socket), "-f", "/dev/null",
            "new-session", "-d", "-s", session, "-n", first_name, first_command,
        ])  # fmt: skip
        for name, command in rest:
            self.tmux("new-window", "-d", "-t", f"{session}:", "-n", name, command)
        self.pid = int(self.tmux("display-message", "-p", "-t", session, "#{pid}"))
        return self

    def alive(self) -> bool:
        return self.pid > 0 and pid_alive(self.pid)

    def has_session(self, session: str) -> bool:
        argv = ["tmux", "-S", str(self.socket), "has-session", "-t", session]
        return self.manager.run(argv, check=False, timeout=15).returncode == 0

    def cgroup(self) -> str:
        return Path(f"/proc/{self.pid}/cgroup").read_text()

    def stop(self) -> None:
        """End the server we started: kill-server on its socket, then its PID if still there."""
        if not self.alive():
            return
        self.tmux("kill-server", check=False)
        try:
            wait_for(f"tmux server {self.pid} to exit", lambda: not self.alive(), timeout=10)
        except RuntimeError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
