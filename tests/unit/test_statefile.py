"""StateStore: round trip, modes, corrupt files moved aside, untrusted files refused."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from tmux_orc.core.recovery_policy import RecoveryRecord
from tmux_orc.core.statefile import (
    PersistedAgent,
    PersistedRollout,
    PersistedState,
    StateRefused,
    StateStore,
)
from tmux_orc.model import Kind, Role, RolloutStage, State

NOBODY = 65534


def sample_state() -> PersistedState:
    return PersistedState(
        agents={"proj:1.0": PersistedAgent(state=State.IDLE, state_since=100.0, detail="d",
                                           last_activity=99.0, role=Role.PM, kind=Kind.CLAUDE, pane_id="%3")},
        alert_cooldowns={"proj:1.0|crashed": 50.0},
        recovery={"pm@proj": RecoveryRecord(attempts=2, last_attempt=90.0, gave_up=True,
                                            history=[(80.0, "attempt 1 started"), (81.0, "ok")])},
        rollout=PersistedRollout(stage=RolloutStage.CANARY, operator_set=True, updated_at=70.0),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_missing_file_gives_empty_state_and_creates_private_dir(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "tmux-orc"
    state = StateStore(directory).load()
    assert state == PersistedState()
    assert mode(directory) == 0o700


def test_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s")
    store.save(sample_state())
    loaded = StateStore(tmp_path / "s").load()
    assert loaded.model_dump(exclude={"saved_at"}) == sample_state().model_dump(exclude={"saved_at"})
    assert loaded.saved_at > 0
    assert loaded.recovery["pm@proj"].history[1] == (81.0, "ok")
    assert mode(store.path) == 0o600
    assert [p.name for p in store.directory.iterdir()] == ["state.json"]


def test_unchanged_state_is_not_rewritten(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(sample_state())
    first = store.path.stat().st_mtime_ns
    os.utime(store.path, ns=(1, 1))
    store.save(sample_state())
    assert store.path.stat().st_mtime_ns == 1 != first
    changed = sample_state()
    changed.alert_cooldowns["x|idle"] = 1.0
    store.save(changed)
    assert store.path.stat().st_mtime_ns != 1


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"",
        b"[1, 2]",
        b'{"schema_version": 2}',
        b'{"schema_version": 1, "agents": {"x": {"state": "exploded", "state_since": 1}}}',
        b'{"schema_version": 1, "unexpected": true}',
        b"\xff\xfe garbage",
        json.dumps({"some": "other program's file"}).encode(),
    ],
)
def test_unreadable_file_is_moved_aside(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    store = StateStore(tmp_path)
    store.path.write_bytes(content)
    os.chmod(store.path, 0o600)
    with caplog.at_level(logging.WARNING):
        assert store.load() == PersistedState()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("state.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert not store.path.exists()
    assert "moved it to state.json.corrupt-" in caplog.text
    store.path.write_bytes(b"{")  # a second bad file in the same second gets its own name
    store.load()
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("state.json.corrupt-")]) == 2


def test_loose_modes_are_tightened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    directory = tmp_path / "s"
    StateStore(directory).save(sample_state())
    os.chmod(directory, 0o755)
    os.chmod(directory / "state.json", 0o644)
    with caplog.at_level(logging.WARNING):
        StateStore(directory).load()
    assert mode(directory) == 0o700 and mode(directory / "state.json") == 0o600
    assert "setting 0700" in caplog.text and "setting 0600" in caplog.text


def test_symlinked_file_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.json"
    real.write_text(sample_state().model_dump_json())
    directory = tmp_path / "s"
    directory.mkdir(mode=0o700)
    (directory / "state.json").symlink_to(real)
    with pytest.raises(StateRefused, match="symlink"):
        StateStore(directory).load()


def test_directory_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s").write_text("")
    with pytest.raises(StateRefused):
        StateStore(tmp_path / "s").load()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_foreign_file_is_refused(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(sample_state())
    os.chown(store.path, NOBODY, NOBODY)
    with pytest.raises(StateRefused, match="belongs to uid 65534"):
        store.load()
    assert store.path.exists()  # left alone for a person to look at


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a directory's owner needs root")
def test_foreign_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    directory.mkdir(mode=0o700)
    os.chown(directory, NOBODY, NOBODY)
    with pytest.raises(StateRefused, match="TMUX_ORC_STATE_DIR"):
        StateStore(directory).load()
    with pytest.raises(StateRefused):
        StateStore(directory).save(sample_state())


def test_stale_temporary_files_are_removed(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    store.save(sample_state())
    (tmp_path / ".state.json.tmp-999-abcd").write_text("half")
    store.load()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_oversized_file_is_moved_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tmux_orc.core.statefile.MAX_FILE_BYTES", 10)
    store = StateStore(tmp_path)
    store.path.write_text(sample_state().model_dump_json())
    assert store.load() == PersistedState()
