"""Plain data shared by every layer: states, roles, kinds, and what one cycle observes.

Nothing here does I/O. The tmux layer fills :class:`PaneInfo` and the screen text, ``procfs`` fills
:class:`ProcessInfo`, the detection engine turns them into a :class:`Verdict`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    """An agent's state, as named in the public contract."""

    STARTING = "starting"
    WORKING = "working"
    IDLE = "idle"
    WAITING_INPUT = "waiting_input"
    UNSUBMITTED = "unsubmitted"
    RATE_LIMITED = "rate_limited"
    ERROR = "error"
    STUCK = "stuck"
    CRASHED = "crashed"
    UNKNOWN = "unknown"


class Role(StrEnum):
    """What an agent does in its team (from its window name or configuration)."""

    PM = "pm"
    ORCHESTRATOR = "orchestrator"
    DEVELOPER = "developer"
    QA = "qa"
    DEVOPS = "devops"
    REVIEWER = "reviewer"
    RESEARCHER = "researcher"
    AGENT = "agent"


class Kind(StrEnum):
    """The built-in kinds: which program the agent is (from the pane's process tree).

    A kind is an open name: these are the ones tmux-orc ships definitions for (and ``shell`` /
    ``unknown``); any agent definition a user adds brings its own name. Fields hold plain ``str``.
    """

    CLAUDE = "claude"
    CODEX = "codex"
    GEMINI = "gemini"
    AIDER = "aider"
    OPENCODE = "opencode"
    QWEN = "qwen"
    SHELL = "shell"
    UNKNOWN = "unknown"


NOT_AGENTS = frozenset({Kind.SHELL, Kind.UNKNOWN})


def is_agent_kind(kind: str) -> bool:
    """Is ``kind`` an agent program (any defined agent), not a shell or an unknown program?"""
    return kind not in NOT_AGENTS

HEALTHY_STATES = frozenset({State.WORKING, State.IDLE, State.WAITING_INPUT, State.UNSUBMITTED})
"""States of an agent that is alive and doing what agents do (nothing to repair)."""


LEGACY_STRATEGY = "polling"
"""The trusted monitoring strategy: one tmux call at a time (the rollout's fallback)."""

CONCURRENT_STRATEGY = "concurrent"
"""The built-in new strategy: one control-mode connection, changed panes only."""


class AlertKind(StrEnum):
    """What an alert is about (also the routing tags of alert channels)."""

    CRASHED = "crashed"
    STUCK = "stuck"
    ERROR = "error"
    RATE_LIMITED = "rate_limited"
    WAITING_INPUT = "waiting_input"
    IDLE = "idle"
    TEAM_IDLE = "team_idle"
    RECOVERED = "recovered"
    RECOVERY_FAILED = "recovery_failed"
    CRASH_LOOP = "crash_loop"
    ROLLOUT = "rollout"
    AUTO_RESUMED = "auto_resumed"


SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}
"""Alert severities, least severe first."""


class RolloutStage(StrEnum):
    """How much of the team the new monitoring strategy watches (the rest: the legacy one)."""

    OFF = "off"
    CANARY = "canary"
    PARTIAL = "partial"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class PaneInfo:
    """One row of ``tmux list-panes -a``: the facts tmux itself knows about a pane."""

    pane_id: str  # "%3": unique while the tmux server lives
    session: str
    window_index: int
    window_name: str
    pane_index: int
    pane_pid: int
    current_command: str
    dead: bool = False
    dead_status: int | None = None
    title: str = ""
    width: int = 80
    height: int = 24
    window_activity: float = 0.0  # unix time of the window's last output
    session_id: str = ""  # "$1"
    window_id: str = ""  # "@2"
    in_mode: bool = False  # copy mode etc.
    # the tmux server's name (its socket file's name; see tmux_orc.sockets): with several servers
    # watched, the names and ids above carry its qualifier ("work.team", "work.%3") unless it is home
    server: str = ""

    @property
    def target(self) -> str:
        """``session:window.pane`` with the window index, as tmux accepts it."""
        return f"{self.session}:{self.window_index}.{self.pane_index}"


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One process from /proc: enough to walk a pane's process tree."""

    pid: int
    ppid: int
    state: str  # one letter from /proc/PID/stat: R, S, D, T, t, Z, ...
    comm: str  # /proc/PID/comm (the kernel's 15-character name, renamable by the program)
    argv: tuple[str, ...] = ()  # /proc/PID/cmdline split on NUL; empty for kernel threads/zombies
    pgrp: int = 0
    tpgid: int = -1  # foreground process group of the controlling terminal
    cpu_seconds: float = 0.0  # CPU time the process used (utime + stime)
    child_cpu_seconds: float = 0.0  # CPU time of its children that have exited (cutime + cstime)


@dataclass(frozen=True, slots=True)
class ProcessFacts:
    """What the process tree under a pane says about its agent program."""

    kind: str  # the agent program found in the tree (a defined kind; SHELL if only a shell, UNKNOWN if neither)
    agent_pid: int | None  # pid of the agent program, None when none is running
    stopped: bool = False  # the agent program is stopped (T state: SIGSTOP / ctrl-z)
    shell_in_foreground: bool = False  # the pane's foreground process is a shell, not an agent
    commands: tuple[str, ...] = ()  # names of the processes in the tree, for evidence
    # CPU seconds used by the programs the agent runs (tools: builds, tests), not by the agent itself;
    # None when no agent runs. The stuck check counts a rise as progress (see detect.engine).
    tool_cpu_seconds: float | None = None

    @property
    def agent_alive(self) -> bool:
        return self.agent_pid is not None

    def key(self) -> tuple[object, ...]:
        """Every fact but the tools' CPU time (which moves whenever a tool runs): what a classification
        of the pane depends on, cheap to compare cycle after cycle."""
        return self.kind, self.agent_pid, self.stopped, self.shell_in_foreground, self.commands


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the detection engine decided for one observation, and why."""

    state: State
    detail: str = ""  # e.g. the rate limit's reset time, the error message, the question asked
    rule: str = ""  # name of the rule that matched, e.g. "claude2.spinner"
    evidence: tuple[str, ...] = ()  # the screen lines / facts the rule matched on


@dataclass(frozen=True, slots=True)
class ToolTrack:
    """CPU seconds of one agent process's tools at a few recent moments, oldest first."""

    pid: int
    samples: tuple[tuple[float, float], ...]  # (unix time, ProcessFacts.tool_cpu_seconds)


@dataclass(frozen=True, slots=True)
class Observation:
    """One classified look at one pane; the engine gets the previous one back next cycle."""

    at: float  # unix time of the capture
    verdict: Verdict
    screen_hash: int  # hash of the live region, to tell "unchanged" cheaply
    unchanged_since: float  # unix time since when the live region has not changed
    tools: ToolTrack | None = None  # recent CPU time of the agent's tools (detect.toolcpu)

    def again(self, at: float, tools: ToolTrack | None, unchanged_since: float | None = None) -> Observation:
        """The same verdict on a later look (``dataclasses.replace`` costs several times more, for
        every agent at every cycle)."""
        since = self.unchanged_since if unchanged_since is None else unchanged_since
        return Observation(at, self.verdict, self.screen_hash, since, tools)


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """What an agent reported about itself (Claude Code hooks via ``ReportEvent``)."""

    at: float
    event: str  # hook event name, e.g. "Notification", "Stop", "SessionStart", "UserPromptSubmit"
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentView:
    """One agent as the core publishes it (D-Bus dicts, alerts, recovery and persistence read this)."""

    id: str  # stable while the pane keeps its place: equal to the target ``session:window.pane``
    target: str
    session: str
    window: str  # window name
    pane_id: str
    role: Role
    kind: str  # a defined agent kind, or shell / unknown
    state: State
    state_since: float
    detail: str = ""
    last_activity: float = 0.0
    strategy: str = LEGACY_STRATEGY
    rule: str = ""
    server: str = ""  # the tmux server's name (PaneInfo.server)
