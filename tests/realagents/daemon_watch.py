"""The real daemon watching real CLIs: for each shot a scenario driver pauses at, what it names over D-Bus.

Scenario drivers (``claude.py``, ``codex.py``, ``gemini.py``, ...) are generators that pause at each shot,
so the agent holds that state while the daemon is asked (ListAgents / GetAgent / Explain on the run's
private session bus). :func:`watch` waits, for each shot, until the daemon names the shot's label;
:func:`run_daemon` is one daemon over one lab's tmux server for a list of drivers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.bus import PrivateBus, wait_until
from tests.harness.daemon import DaemonProcess
from tests.realagents.harness import TmuxBox, daemon_agent, open_shell_session
from tests.realagents.shots import Shot, classify_shot, explain

STUCK_AFTER = 4.0  # seconds a working screen may stay unchanged (the contract's default is 300)
WAIT = 15.0  # bound on every wait for the daemon to name a state
DAEMON_TOOLS = ("tmux", "dbus-daemon", "busctl")
DAEMON_SETTINGS: dict[str, Any] = {
    "interval": 0.3,
    "stuck_after": STUCK_AFTER,
    "notify_pm": "false",
    "auto_recover_pm": "false",
}


@dataclass(frozen=True)
class Seen:
    """What the daemon said over D-Bus about one shot's pane while the agent held that state."""

    shot: Shot
    agent: dict[str, Any]  # GetAgent's dict (or the last ListAgents entry on a timeout)
    problem: str = ""  # why the expected state was not seen ("" when it was)
    waited: float = 0.0  # seconds until the daemon named it
    first_state: str = ""  # what the daemon said the moment the shot was taken, before any waiting
    first_explain: dict[str, Any] | None = None  # and its Explain of the agent then

    def report(self) -> str:
        """A failure message: what the daemon said, and how the engine reads the shot's screen."""
        got = f"{self.agent.get('state')!r} ({self.agent.get('detail')!r})" if self.agent else "no agent"
        head = f"{self.shot.scenario}: daemon said {got} after {self.waited:.1f}s; {self.problem}"
        return f"{head}\n{explain(self.shot, classify_shot(self.shot))}"


def _explain(daemon: DaemonProcess, pane_id: str) -> dict[str, Any] | None:
    try:
        return daemon.call("Explain", "s", pane_id)[0]  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - the agent vanished between the two calls (any bus error)
        return None


def watch(
    daemon: DaemonProcess,
    shots: Iterable[Shot],
    hints: dict[str, str] | None = None,
    wait: float = WAIT,
    fresh: bool = False,
) -> Iterator[Seen]:
    """For each shot (the agent paused in that state), wait until the daemon names the shot's label
    (and says the shot's own words in its detail, where two shots in a row share a state).

    ``fresh``: only a naming from a look taken after the shot counts, and that look must read the same
    state (Explain's ``observed_at`` and ``observed_state``): a state left published from the shot
    before, or a reading the debouncer has not confirmed yet, does not pass for this shot's.
    """
    for shot in shots:
        pane_id, began = shot.pane.pane_id, time.monotonic()
        hint = (hints or {}).get(shot.scenario, "")
        first = daemon_agent(daemon, pane_id).get("state", "")
        first_explain = _explain(daemon, pane_id) if first else None

        def named(pane_id: str = pane_id, state: str = shot.label.value, hint: str = hint, at: float = shot.at) -> bool:
            if fresh:
                why = _explain(daemon, pane_id) or {}
                return (why.get("state") == why.get("observed_state") == state and hint in why.get("detail", "")
                        and why.get("observed_at", 0.0) >= at)
            agent = daemon_agent(daemon, pane_id)
            return bool(agent) and agent["state"] == state and hint in agent["detail"]

        try:
            wait_until(named, timeout=wait, interval=0.2, what=f"{pane_id} in state {shot.label.value}")
            yield Seen(shot, daemon.agent(pane_id), "", time.monotonic() - began, first, first_explain)
        except AssertionError as exc:
            problem = f"{exc}".splitlines()[0]
            yield Seen(shot, daemon_agent(daemon, pane_id), problem, time.monotonic() - began, first, first_explain)


def run_daemon(
    bus: PrivateBus,
    box: TmuxBox,
    session: str,
    root: Path,
    drivers: Iterable[Callable[[], Iterable[Shot]]],
    hints: dict[str, str] | None = None,
    fresh: bool = False,
    **settings: Any,
) -> dict[str, Seen]:
    """One daemon (``DAEMON_SETTINGS`` with ``settings`` over them) on ``bus`` watching ``box``'s tmux
    server while each driver runs in turn; what it said for each shot, by scenario (see :func:`watch`)."""
    open_shell_session(box, session)
    daemon = DaemonProcess(bus.address, box.socket, root, **{**DAEMON_SETTINGS, **settings}).start()
    try:
        seen = [s for driver in drivers for s in watch(daemon, driver(), hints, fresh=fresh)]
    finally:
        daemon.stop()
    return {s.shot.scenario: s for s in seen}


def hook_events(daemon: DaemonProcess, pane_id: str) -> list[str]:
    """The hook events the daemon holds for a pane (Explain's ``hook_events``, without their times)."""
    why: dict[str, Any] = daemon.call("Explain", "s", pane_id)[0]
    return [str(event).split("@")[0] for event in why["hook_events"]]


def agent_state(daemon: DaemonProcess, pane_id: str) -> str:
    """The state the daemon names for a pane (GetAgent)."""
    return str(daemon.call("GetAgent", "s", pane_id)[0]["state"])
