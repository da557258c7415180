"""Hook events to states (notification_type, not words), the hook's input and server, the watched socket."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tmux_orc.cli.hook import hook_details, tmux_server
from tmux_orc.core.hooks import same_socket, watched_socket
from tmux_orc.detect.engine import event_state
from tmux_orc.model import AgentEvent, State


@pytest.mark.parametrize(
    ("details", "state"),
    [
        ({"notification_type": "permission_prompt", "message": "whatever it says"}, State.WAITING_INPUT),
        ({"notification_type": "idle_prompt", "message": "Claude needs your permission (a quote)"}, State.IDLE),
        ({"notification_type": "elicitation_dialog"}, State.WAITING_INPUT),
        ({"notification_type": "auth_success", "message": "idle permission approve"}, None),
        ({"message": "Claude needs your permission to use Bash"}, State.WAITING_INPUT),  # 1.x: no type
        ({"message": "Claude is waiting for your input"}, State.IDLE),
        ({"message": "I approve of idle words"}, None),
    ],
)
def test_notification_state_comes_from_its_type(details: dict[str, str], state: State | None) -> None:
    assert event_state(AgentEvent(0.0, "Notification", details)) is state


def test_other_events() -> None:
    assert event_state(AgentEvent(0.0, "Stop")) is State.IDLE
    assert event_state(AgentEvent(0.0, "UserPromptSubmit")) is State.WORKING
    assert event_state(AgentEvent(0.0, "agent-turn-complete")) is State.IDLE
    assert event_state(AgentEvent(0.0, "SessionEnd")) is None


def test_hook_details_of_claude_input() -> None:
    raw = json.dumps({
        "session_id": "s1", "hook_event_name": "Notification", "notification_type": "permission_prompt",
        "message": "Claude needs your permission to use Bash", "tool_input": {"command": "ls"},
    }).encode()
    assert hook_details(raw) == {
        "session_id": "s1", "hook_event_name": "Notification", "notification_type": "permission_prompt",
        "message": "Claude needs your permission to use Bash",
    }


def test_cut_off_input_keeps_the_known_fields_before_the_cut() -> None:
    whole = json.dumps({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "Write",
                        "tool_input": {"content": "x" * 10_000}})
    assert hook_details(whole[:5000].encode()) == {
        "session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "Write",
    }
    assert hook_details(b"\xff\xfe garbage") == {"input": "\ufffd\ufffd garbage"}
    assert hook_details(b"[1, 2]") == {"input": "[1, 2]"}


def test_tmux_server_is_the_first_field_of_tmux() -> None:
    assert tmux_server({"TMUX": "/tmp/tmux-1000/default,4242,0"}) == "/tmp/tmux-1000/default"
    assert tmux_server({}) == ""


def test_watched_socket_and_same_socket(tmp_path: Path) -> None:
    uid = os.getuid()
    assert watched_socket("/run/x.sock") == "/run/x.sock"
    assert watched_socket(None, {"TMUX_TMPDIR": "/var/t"}) == f"/var/t/tmux-{uid}/default"
    assert watched_socket("work", {}) == f"/tmp/tmux-{uid}/work"
    real = tmp_path / "real.sock"
    real.touch()
    (tmp_path / "link.sock").symlink_to(real)
    assert same_socket(str(tmp_path / "link.sock"), str(real))
    assert same_socket(str(tmp_path / "." / "real.sock"), str(real))
    assert not same_socket(str(tmp_path / "other.sock"), str(real))


def test_details_leave_room_for_the_server() -> None:
    many = json.dumps({f"k{i}": i for i in range(100)}).encode()
    assert len(hook_details(many)) == 31  # + the tmux server: the daemon's 32
