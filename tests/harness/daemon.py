"""tmux-orcd as a subprocess on a private bus, watching a private tmux server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.harness.bus import call, name_has_owner, plain, wait_until

TMUX_ORCD = str(Path(sys.executable).with_name("tmux-orcd"))
TMUX_ORC = str(Path(sys.executable).with_name("tmux-orc"))


class DaemonProcess:
    def __init__(self, address: str, tmux_socket: Path, directory: Path, **settings: Any) -> None:
        self.address = address
        self.state_dir = directory / "state"
        self.log_path = directory / "daemon.log"
        self.env = dict(os.environ)
        for key in [k for k in self.env if k.startswith("TMUX_ORC_") or k in ("NOTIFY_SOCKET", "TMUX")]:
            del self.env[key]
        self.env.update({
            "DBUS_SESSION_BUS_ADDRESS": address,
            "XDG_CONFIG_HOME": str(directory / "config"),
            "TMUX_ORC_TMUX_SOCKET": str(tmux_socket),
            "TMUX_ORC_STATE_DIR": str(self.state_dir),
            "TMUX_ORC_INTERVAL": "0.3",
            "TMUX_ORC_DESKTOP_NOTIFICATIONS": "false",
            "TMUX_ORC_LOG_FORMAT": "text",
            "TMUX_ORC_LOG_LEVEL": "debug",
        })
        for key, value in settings.items():
            self.env[f"TMUX_ORC_{key.upper()}"] = str(value)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait: bool = True) -> DaemonProcess:
        with open(self.log_path, "ab") as log:
            proc = subprocess.Popen([TMUX_ORCD], env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.proc = proc
        if wait:
            wait_until(lambda: name_has_owner(self.address) or proc.poll() is not None,
                       timeout=20, what="tmux-orcd to own its bus name")
            if proc.poll() is not None:
                raise RuntimeError(f"tmux-orcd exited {self.proc.returncode}:\n{self.log()}")
            wait_until(lambda: self.call("GetStatus")[0]["cycles"] >= 1, timeout=20, what="the first cycle")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def call(self, method: str, signature: str = "", *args: str) -> Any:
        return plain(call(self.address, method, signature, *args))

    def agents(self) -> list[dict[str, Any]]:
        return self.call("ListAgents")[0]  # type: ignore[no-any-return]

    def agent(self, target: str) -> dict[str, Any]:
        return self.call("GetAgent", "s", target)[0]  # type: ignore[no-any-return]

    def wait_state(self, target: str, *states: str, timeout: float = 20.0) -> dict[str, Any]:
        def current() -> dict[str, Any] | None:
            for agent in self.agents():
                if target in (agent["id"], agent["target"], agent["pane_id"]) and agent["state"] in states:
                    return agent
            return None
        return wait_until(current, timeout=timeout, what=f"{target} in state {states}")  # type: ignore[no-any-return]

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([TMUX_ORC, *args], capture_output=True, text=True, env=self.env, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
