"""The typed payloads (GetStatus, Explain, GetRollout, ListAgentKinds): to plain values and back."""

from __future__ import annotations

import dataclasses

from tmux_orc.payloads import AgentKindInfo, ExplainedFacts, Explanation, Payload, RolloutInfo, Status


def samples() -> list[Payload]:
    return [
        Status(agents=3, cycles=7, tmux_servers=[{"name": "default", "connected": True, "panes": 4}]),
        Explanation(target="team:dev", evidence=["a", "b"], facts=ExplainedFacts(kind="claude", commands=["node"])),
        AgentKindInfo(name="claude", programs=["claude"]),
        RolloutInfo(sessions={"team": "concurrent"}, health={"concurrent": 0.5}),
    ]


def test_as_dict_gives_what_dataclasses_asdict_gives() -> None:
    for payload in samples():
        assert payload.as_dict() == dataclasses.asdict(payload)  # type: ignore[call-overload]


def test_as_dict_gives_new_containers_the_caller_may_change() -> None:
    status = Status(tmux_servers=[{"name": "default"}])
    plain = status.as_dict()
    plain["tmux_servers"][0]["name"] = "changed"
    plain["tmux_servers"].append({})
    assert status.tmux_servers == [{"name": "default"}]


def test_a_payload_round_trips_through_its_plain_values() -> None:
    for payload in samples():
        assert type(payload).from_mapping(payload.as_dict()) == payload
