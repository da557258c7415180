"""A private tmux server per test: ``tmux -S <tmp>/tmux.sock``, never the user's own."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tmux_orc.tmux.runner import clean_environment


class TmuxTestServer:
    def __init__(self, directory: Path, width: int = 120, height: int = 40) -> None:
        self.socket = directory / "tmux.sock"
        self.width = width
        self.height = height
        self.env = clean_environment()
        self.env.pop("TMUX_PANE", None)
        self.started = False

    def run(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True, text=True, env=self.env, timeout=20,
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def new_session(self, name: str, window_name: str = "main", command: str | None = None) -> str:
        args = ["new-session", "-d", "-P", "-F", "#{pane_id}", "-s", name, "-n", window_name,
                "-x", str(self.width), "-y", str(self.height)]
        out = self.run(*args, *([command] if command else []))
        self.started = True
        return out.strip()

    def new_window(self, session: str, name: str, command: str | None = None) -> str:
        args = ["new-window", "-d", "-P", "-F", "#{pane_id}", "-t", f"{session}:", "-n", name]
        return self.run(*args, *([command] if command else [])).strip()

    def capture(self, pane_id: str) -> str:
        return self.run("capture-pane", "-p", "-t", pane_id)

    def send_keys(self, pane_id: str, *keys: str) -> None:
        self.run("send-keys", "-t", pane_id, *keys)

    def pane_pid(self, pane_id: str) -> int:
        return int(self.run("display-message", "-p", "-t", pane_id, "#{pane_pid}").strip())

    def server_pid(self) -> int | None:
        out = self.run("display-message", "-p", "#{pid}", check=False).strip()
        return int(out) if out.isdigit() else None

    def wait_for(self, pane_id: str, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture(pane_id)
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear in {pane_id} within {timeout}s; screen:\n{screen}")

    def kill(self) -> None:
        pid = self.server_pid()
        self.run("kill-server", check=False)
        if pid is not None:
            _wait_gone(pid)
        if self.socket.exists():
            self.socket.unlink()


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
