"""The typed payloads of GetStatus, Explain and GetRollout: built by the core, sent by the service as
``a{sv}`` field by field, and decoded back into the same classes by the client.

A leaf module (it imports nothing of tmux-orc) so that the daemon and every client share one
definition. Decoding is lenient the way D-Bus clients should be: unknown keys are ignored (a newer
daemon), missing ones take the field's default (an older daemon).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

T = TypeVar("T")


def _coerce(value: Any, default: T) -> T:
    """``value`` when it has the type of ``default`` (ints accepted for floats), else ``default``."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else default  # type: ignore[return-value]
    if isinstance(default, float):
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default  # type: ignore[return-value]
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else default  # type: ignore[return-value]
    if isinstance(default, str):
        return value if isinstance(value, str) else default  # type: ignore[return-value]
    return value if isinstance(value, type(default)) else default


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _plain(value: Any) -> Any:
    """``value`` rebuilt of plain values: payloads as dicts, lists, tuples and dicts as new ones (the
    caller may change them), anything else (numbers, strings: immutable) as it is."""
    if isinstance(value, Payload):
        return value.as_dict()
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Payload:
    """Shared behaviour: to a plain dict and back."""

    __slots__ = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain values, nested payloads as dicts (what the D-Bus mapping and ``--json`` use): what
        ``dataclasses.asdict`` gives, without its deep copy of every value (a third of a GetStatus)."""
        return {name: _plain(getattr(self, name)) for name in _field_names(type(self))}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Self:
        """Decode a plain mapping (an unwrapped ``a{sv}``); unknown keys ignored, missing ones defaulted."""
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in values:
                continue
            hint = hints[f.name]
            raw = values[f.name]
            if isinstance(hint, type) and issubclass(hint, Payload):
                kwargs[f.name] = hint.from_mapping(raw if isinstance(raw, Mapping) else {})
            elif f.default is not dataclasses.MISSING:
                kwargs[f.name] = _coerce(raw, f.default)
            else:
                made = f.default_factory()  # type: ignore[operator]
                kwargs[f.name] = type(made)(raw) if isinstance(raw, type(made) | list | tuple | dict) else made
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Status(Payload):
    """GetStatus: what the daemon is doing (the contract's keys first)."""

    running: bool = True  # a daemon that does not say is taken as running and connected
    rollout_stage: str = ""
    strategy: str = ""
    agents: int = 0
    cycles: int = 0
    last_cycle_ms: float = 0.0
    tmux_connected: bool = True
    uptime_s: float = 0.0
    version: str = ""
    interval_s: float = 0.0
    tmux_socket: str = ""
    tmux_error: str = ""  # why no tmux server is reached ("" while connected)
    # each tmux server watched: name, socket, connected, panes, error (why it does not answer), qualifier
    tmux_servers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExplainedFacts(Payload):
    """The process and pane facts behind a state."""

    kind: str = ""
    agent_pid: int = 0
    stopped: bool = False
    shell_in_foreground: bool = False
    commands: list[str] = field(default_factory=list)
    tool_cpu_seconds: float = 0.0
    tool_cpu_share: float = 0.0
    pane_dead: bool = False
    pane_title: str = ""
    current_command: str = ""


@dataclass(frozen=True, slots=True)
class Explanation(Payload):
    """Explain: the rule, evidence and facts behind an agent's state."""

    id: str = ""
    target: str = ""
    state: str = ""
    detail: str = ""
    rule: str = ""
    evidence: list[str] = field(default_factory=list)
    observed_state: str = ""
    observed_at: float = 0.0
    unchanged_since: float = 0.0
    confirmations: int = 0
    facts: ExplainedFacts = field(default_factory=ExplainedFacts)
    hook_events: list[str] = field(default_factory=list)
    auto_resume: str = ""  # what auto-resume will do or did about a usage limit ("" when nothing)
    auto_resume_at: float = 0.0  # when it resumes (unix time, 0 when not planned)


@dataclass(frozen=True, slots=True)
class AgentKindInfo(Payload):
    """ListAgentKinds: one agent definition in use, and where it came from."""

    name: str = ""
    description: str = ""
    source: str = ""  # "built-in <file>" or the path of a user's definition
    programs: list[str] = field(default_factory=list)  # program names it is recognised by
    resume: str = ""
    hooks: list[str] = field(default_factory=list)
    rules: int = 0


@dataclass(frozen=True, slots=True)
class RolloutInfo(Payload):
    """GetRollout: the stage, its fractions, which strategy watches which session, and the health figures."""

    stage: str = ""
    auto: bool = True
    frozen: bool = False
    canary_fraction: float = 0.0
    partial_fraction: float = 0.0
    new_strategy: str = ""
    sessions: dict[str, str] = field(default_factory=dict)
    health: dict[str, float] = field(default_factory=dict)
    last_reason: str = ""
    last_decision_health: dict[str, float] = field(default_factory=dict)
    rules: dict[str, float] = field(default_factory=dict)
