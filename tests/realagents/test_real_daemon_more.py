"""The whole product against the real Gemini CLI, Aider, opencode and Qwen Code: tmux-orcd watches a
private tmux server of one real CLI and names each state over D-Bus (GetAgent / Explain on the run's
private session bus), with the scenario drivers of ``gemini.py``, ``aider.py``, ``opencode.py`` and
``qwen.py`` pausing at each shot (see ``daemon_watch.py``).

One daemon per CLI (a module-scoped fixture per CLI). A naming counts only when the daemon's own look
was taken after the shot and read the same state (``fresh``). The stuck threshold is long (60 s): the
stuck these CLIs are driven into is SIGSTOP, which the process facts name at once; a short threshold
would call a spinner whose only motion is its clock stuck (a first token that is slow to come, a
request retried silently), which is the stalled-stream proof of ``test_real_daemon.py`` for Claude Code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.bus import PrivateBus
from tests.realagents import aider, gemini, opencode, qwen
from tests.realagents.cli_lab import CliLab
from tests.realagents.daemon_watch import DAEMON_TOOLS, Seen, run_daemon
from tests.realagents.harness import require_daemon_and
from tests.realagents.shots import Shot
from tmux_orc.model import State

pytestmark = pytest.mark.realagent

STUCK_AFTER = 60.0
Drivers = list[Callable[[], Iterable[Shot]]]


@dataclass(frozen=True)
class Cli:
    """One CLI: where its binary is, its lab and scenario drivers, and the state each shot must be named."""

    binary: Callable[[], Path]
    what: str
    lab: Callable[[Path], tuple[CliLab, Drivers]]
    states: dict[str, State]
    hints: dict[str, str]  # scenario -> words its detail must say (two shots in a row of one state)
    cannot_show: dict[State, str]  # states this CLI never shows in these scenarios, and why


def _gemini(root: Path) -> tuple[CliLab, Drivers]:
    lab = gemini.GeminiLab(root)
    return lab, [lambda: gemini.main_flow(lab), lambda: gemini.retrying_and_stopped(lab)]


def _aider(root: Path) -> tuple[CliLab, Drivers]:
    lab = aider.AiderLab(root)
    return lab, [lambda: aider.main_flow(lab), lambda: aider.stopped(lab)]


def _opencode(root: Path) -> tuple[CliLab, Drivers]:
    lab = opencode.OpencodeLab(root)
    return lab, [lambda: opencode.main_flow(lab), lambda: opencode.stopped(lab)]


def _qwen(root: Path) -> tuple[CliLab, Drivers]:
    lab = qwen.QwenLab(root)
    return lab, [lambda: qwen.main_flow(lab), lambda: qwen.stopped(lab)]


TURN = {
    "fresh-prompt": State.IDLE,
    "typed": State.UNSUBMITTED,
    "thinking": State.WORKING,
    "streaming": State.WORKING,
    "interrupted": State.IDLE,
    "after-turn": State.IDLE,
    "approval": State.WAITING_INPUT,
}
ENDS = {"killed": State.CRASHED, "sigstop": State.STUCK}

CLIS: dict[str, Cli] = {
    "gemini": Cli(
        gemini.gemini_bin, f"Gemini CLI {gemini.GEMINI}", _gemini,
        {**TURN, "429": State.RATE_LIMITED, "429-stopped": State.RATE_LIMITED, "400": State.ERROR,
         # a 503 is retried for minutes under the bare spinner: nothing on screen says it failed
         "503-retrying": State.WORKING, **ENDS},
        {"429-stopped": "exhausted"},
        {},
    ),
    "aider": Cli(
        aider.aider_bin, f"Aider {aider.AIDER}", _aider,
        {**TURN, "429-retrying": State.RATE_LIMITED, "429-recovered": State.IDLE, "500-retrying": State.ERROR,
         "500-recovered": State.IDLE, "400": State.ERROR, **ENDS},
        {},
        {},
    ),
    "opencode": Cli(
        opencode.opencode_bin, f"opencode {opencode.OPENCODE}", _opencode,
        {**TURN, "429": State.RATE_LIMITED, "500": State.ERROR, "400": State.ERROR, **ENDS},
        {"400": "▣"},  # its detail is the failed turn's `▣` line, not the 500's retry status before it
        {},
    ),
    "qwen": Cli(
        qwen.qwen_bin, f"Qwen Code {qwen.QWEN}", _qwen,
        # Escape puts the cancelled message back into the prompt: typed, not sent
        {**TURN, "interrupted": State.UNSUBMITTED,
         # 429 and 5xx are retried silently under the spinner, as a slow first token
         "429-retrying": State.WORKING, "500-retrying": State.WORKING, "400": State.ERROR, **ENDS},
        {},
        {State.RATE_LIMITED: "Qwen Code 0.24 retries a 429 silently under its spinner (`… (Ns · esc to cancel)`) "
                             "and shows no rate-limit words: the daemon names it working (429-retrying)"},
    ),
}


def _daemon_saw(name: str, tmp_path_factory: pytest.TempPathFactory, bus: PrivateBus) -> dict[str, Seen]:
    """One daemon over one CLI's lab while all its scenarios run; what it said for each shot."""
    cli = CLIS[name]
    require_daemon_and(cli.binary(), cli.what, DAEMON_TOOLS)
    root = tmp_path_factory.mktemp(f"daemon-{name}")
    lab, drivers = cli.lab(root / "lab")
    with lab:
        return run_daemon(bus, lab.box, lab.session, root, drivers, cli.hints, fresh=True, stuck_after=STUCK_AFTER)


# One module-scoped fixture per CLI (not one parametrized fixture: pytest would interleave the CLIs'
# cases by their shared scenario names and start each lab more than once).
@pytest.fixture(scope="module")
def gemini_saw(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> dict[str, Seen]:
    return _daemon_saw("gemini", tmp_path_factory, session_bus)


@pytest.fixture(scope="module")
def aider_saw(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> dict[str, Seen]:
    return _daemon_saw("aider", tmp_path_factory, session_bus)


@pytest.fixture(scope="module")
def opencode_saw(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> dict[str, Seen]:
    return _daemon_saw("opencode", tmp_path_factory, session_bus)


@pytest.fixture(scope="module")
def qwen_saw(tmp_path_factory: pytest.TempPathFactory, session_bus: PrivateBus) -> dict[str, Seen]:
    return _daemon_saw("qwen", tmp_path_factory, session_bus)


CASES = [
    pytest.param(name, scenario, state, id=f"{name}-{scenario}")
    for name, cli in CLIS.items()
    for scenario, state in cli.states.items()
]
NOT_SHOWN = [
    pytest.param(name, state, why, id=f"{name}-{state.value}")
    for name, cli in CLIS.items()
    for state, why in cli.cannot_show.items()
]


@pytest.mark.parametrize(("cli", "scenario", "state"), CASES)
def test_daemon_names_state(request: pytest.FixtureRequest, cli: str, scenario: str, state: State) -> None:
    seen: Seen = request.getfixturevalue(f"{cli}_saw")[scenario]
    assert seen.shot.label is state, "the scenario driver and this table disagree"
    assert not seen.problem and seen.agent["state"] == state.value, seen.report()
    kinds = (cli, "shell") if state is State.CRASHED else (cli,)
    assert seen.agent["kind"] in kinds, seen.agent  # found by its process tree, not by a window name


@pytest.mark.parametrize("cli", list(CLIS))
def test_daemon_details(request: pytest.FixtureRequest, cli: str) -> None:
    """The detail a person reads: why it is stuck or crashed."""
    saw: dict[str, Seen] = request.getfixturevalue(f"{cli}_saw")
    assert "stopped" in saw["sigstop"].agent["detail"], saw["sigstop"].agent
    assert "shell in foreground" in saw["killed"].agent["detail"], saw["killed"].agent


@pytest.mark.parametrize(("cli", "state", "why"), NOT_SHOWN)
def test_state_the_cli_does_not_show(cli: str, state: State, why: str) -> None:
    """A state the contract has that this CLI never shows in these scenarios: said here, with the reason."""
    assert state not in CLIS[cli].states.values()
    pytest.skip(f"{cli} shows no {state.value}: {why}")
