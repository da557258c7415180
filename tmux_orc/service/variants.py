"""Plain Python values <-> D-Bus variants, with the contract's exact types where it names one."""

from collections.abc import Mapping
from typing import Any

from dbus_fast import Variant

from tmux_orc.model import AgentView
from tmux_orc.service.names import agent_path
from tmux_orc.sockets import local_name

# Keys whose D-Bus type the contract fixes (anything else is inferred).
CONTRACT_TYPES: dict[str, str] = {
    "agents": "u",
    "cycles": "t",
    "rss_bytes": "t",
    "object_path": "o",
    "uptime_s": "d",
    "last_cycle_ms": "d",
    "state_since": "d",
    "last_activity": "d",
    "cycle_ms_p50": "d",
    "cycle_ms_p95": "d",
    "cycle_ms_max": "d",
}


def to_variant(value: Any, signature: str | None = None) -> Variant:
    """``value`` as a D-Bus variant: of type ``signature`` when given, else of the type its Python type maps to.

    >>> to_variant(7).signature, to_variant(2.9, "u").value, to_variant(["a", "b"]).signature
    ('x', 2, 'as')
    >>> to_variant(None).signature, to_variant(None).value
    ('s', '')
    """
    if signature is not None:
        if signature in "ut" and isinstance(value, float):
            value = int(value)
        if signature == "d":
            value = float(value)
        return Variant(signature, value)
    if isinstance(value, bool):
        return Variant("b", value)
    if isinstance(value, int):
        return Variant("x", value)
    if isinstance(value, float):
        return Variant("d", value)
    if isinstance(value, str):
        return Variant("s", value)
    if isinstance(value, list | tuple):
        if all(isinstance(v, str) for v in value):
            return Variant("as", list(value))
        if value and all(isinstance(v, Mapping) for v in value):
            return Variant("aa{sv}", [variant_dict(v) for v in value])
        return Variant("av", [to_variant(v) for v in value])
    if isinstance(value, Mapping):
        return Variant("a{sv}", variant_dict(value))
    if value is None:
        return Variant("s", "")
    return Variant("s", str(value))


def variant_dict(values: Mapping[str, Any]) -> dict[str, Variant]:
    """``values`` as the body of an ``a{sv}``, with the contract's type for each key it names.

    >>> {k: v.signature for k, v in variant_dict({"cycles": 12, "uptime_s": 3, "running": True}).items()}
    {'cycles': 't', 'uptime_s': 'd', 'running': 'b'}
    """
    return {str(k): to_variant(v, CONTRACT_TYPES.get(str(k))) for k, v in values.items()}


def agent_dict(view: AgentView) -> dict[str, Any]:
    """One agent as the contract's ``ListAgents`` / ``GetAgent`` dict, in plain values."""
    return {
        "id": view.id,
        "target": view.target,
        "session": local_name(view.server, view.session),  # tmux's own names, on the agent's server
        "window": view.window,
        "pane_id": local_name(view.server, view.pane_id),
        "role": str(view.role),
        "kind": str(view.kind),
        "state": str(view.state),
        "state_since": view.state_since,
        "detail": view.detail,
        "object_path": agent_path(view.id),
        "strategy": view.strategy,
        "last_activity": view.last_activity,
        "rule": view.rule,
        "server": view.server,
    }


def unwrap(value: Any) -> Any:
    """Variants (and nested containers of them) as plain Python values."""
    if isinstance(value, Variant):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value
