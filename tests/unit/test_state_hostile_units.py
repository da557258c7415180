"""The state file under attack: non-finite numbers, links, a directory in its place, 50,000 stale agents,
failing writes; and D-Bus error messages that would quote a huge argument."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from tmux_orc.core import errors
from tmux_orc.core.persistence import ERROR_LOG_EVERY, MAX_REMEMBERED, PRUNE_FIRST, RETENTION, Persistence
from tmux_orc.core.recovery_policy import RecoveryPolicy
from tmux_orc.core.rollout import RolloutManager
from tmux_orc.core.statefile import PersistedState, StateRefused, StateStore
from tmux_orc.core.tracker import StateTracker
from tmux_orc.service.dbus_errors import MAX_MESSAGE, to_dbus_error

NOW = 1_800_000_000.0


def _agent(since: object, activity: object = 0.0) -> dict[str, object]:
    return {"state": "idle", "state_since": since, "detail": "", "last_activity": activity}


def _write_raw(directory: Path, text: str) -> Path:
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "state.json"
    path.write_text(text)
    path.chmod(0o600)
    return path


def strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"{name} in JSON")
    return json.loads(text, parse_constant=refuse)


# --- non-finite numbers -------------------------------------------------------------------------------
def test_nan_and_infinity_are_left_out_on_load_and_never_written(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    path = _write_raw(directory, '{"schema_version": 1, "saved_at": NaN, '
                      '"agents": {"a:0.0": {"state": "idle", "state_since": 5.0, "last_activity": Infinity},'
                      ' "b:0.0": {"state": "idle", "state_since": -Infinity},'
                      ' "c:0.0": {"state": "idle", "state_since": 1e999}},'
                      ' "alert_cooldowns": {"x": NaN, "y": 7.0},'
                      ' "recovery": {"t": {"attempts": 1, "last_attempt": NaN,'
                      ' "history": [[NaN, "ok"], [3.0, "ok"]]}}}')
    store = StateStore(directory)
    state = store.load()
    assert list(state.agents) == ["a:0.0"] and state.agents["a:0.0"].last_activity == 0.0
    assert state.alert_cooldowns == {"y": 7.0}
    assert state.recovery["t"].last_attempt is None and state.recovery["t"].history == [(3.0, "ok")]
    store.save(state)  # written again at once, without them
    strict_json(path.read_text())
    assert not list(directory.glob("state.json.corrupt-*"))


def test_a_non_finite_number_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PersistedState.model_validate({"saved_at": float("nan")})


def test_persistence_snapshot_is_finite_whatever_the_tracker_holds(tmp_path: Path) -> None:
    from tmux_orc.core.tracker import Remembered
    from tmux_orc.model import State

    tracker = StateTracker()
    persistence = Persistence(StateStore(tmp_path / "s"), tracker, RecoveryPolicy(), RolloutManager(),
                              clock=lambda: NOW)
    tracker.restore({"a:0.0": Remembered(State.IDLE, float("nan"), "", float("inf"))})
    snapshot = persistence.snapshot()
    assert snapshot.agents["a:0.0"].state_since == NOW and snapshot.agents["a:0.0"].last_activity == 0.0
    strict_json(snapshot.model_dump_json())


def test_json_that_is_not_json_is_moved_aside(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    _write_raw(directory, "[" * 100_000)
    assert StateStore(directory).load() == PersistedState()
    assert list(directory.glob("state.json.corrupt-*"))


# --- links and odd files ------------------------------------------------------------------------------
def test_hard_linked_state_file_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    elsewhere = tmp_path / "precious"
    elsewhere.write_text("{}")
    elsewhere.chmod(0o644)
    directory = tmp_path / "s"
    directory.mkdir(mode=0o700)
    os.link(elsewhere, directory / "state.json")
    with pytest.raises(StateRefused, match="hard links"):
        StateStore(directory).load()
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644 and elsewhere.read_text() == "{}"


def test_symlinked_state_directory_is_refused_not_chmoded(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    real.chmod(0o755)
    link = tmp_path / "state"
    link.symlink_to(real)
    with pytest.raises(StateRefused, match="symlink"):
        StateStore(link).load()
    assert stat.S_IMODE(real.stat().st_mode) == 0o755
    assert not list(real.iterdir())


def test_directory_in_place_of_the_state_file_is_named_clearly(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    (directory / "state.json").mkdir(parents=True)
    directory.chmod(0o700)
    with pytest.raises(StateRefused) as info:
        StateStore(directory).load()
    assert "is a directory" in str(info.value) and "Errno" not in str(info.value)


def test_state_directory_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.write_text("")
    with pytest.raises(StateRefused, match="not a directory"):
        StateStore(path).load()


# --- stale agents -------------------------------------------------------------------------------------
def _persistence(directory: Path, clock: list[float]) -> tuple[Persistence, StateTracker]:
    tracker = StateTracker()
    return Persistence(StateStore(directory), tracker, RecoveryPolicy(), RolloutManager(),
                       clock=lambda: clock[0]), tracker


def test_fifty_thousand_stale_agents_are_cut_at_load_then_pruned(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    old = {f"old{n}:0.0": _agent(NOW - RETENTION - 10 - n) for n in range(49_500)}
    fresh = {f"new{n}:0.0": _agent(NOW - 10 - n) for n in range(500)}
    _write_raw(directory, json.dumps({"schema_version": 1, "agents": {**old, **fresh}}))
    clock = [NOW]
    persistence, tracker = _persistence(directory, clock)
    persistence.load()
    remembered = tracker.export()
    assert len(remembered) == MAX_REMEMBERED  # the most recent ones
    assert "new0:0.0" in remembered and "old0:0.0" in remembered and "old600:0.0" not in remembered
    persistence.save()
    assert len(json.loads((directory / "state.json").read_text())["agents"]) == MAX_REMEMBERED
    clock[0] += PRUNE_FIRST

    async def one_cycle() -> None:
        await persistence.on_cycle(None)  # type: ignore[arg-type]  # the report is not read
    asyncio.run(one_cycle())
    assert set(tracker.export()) == set(fresh)  # past the retention: forgotten


def test_agents_not_seen_are_forgotten_over_time(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    _write_raw(directory, json.dumps({"schema_version": 1, "agents": {"gone:0.0": _agent(NOW - 5)}}))
    clock = [NOW]
    persistence, tracker = _persistence(directory, clock)
    persistence.load()
    assert persistence.prune() == 0 and "gone:0.0" in tracker.export()
    clock[0] = NOW + RETENTION + 1
    assert persistence.prune() == 1 and tracker.export() == {}


# --- failing writes -----------------------------------------------------------------------------------
class FullDisk(StateStore):
    def save(self, state: PersistedState) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_failing_writes_are_logged_rate_limited(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = [NOW]
    tracker = StateTracker()
    persistence = Persistence(FullDisk(tmp_path / "s"), tracker, RecoveryPolicy(), RolloutManager(),
                              clock=lambda: clock[0])
    persistence.load()
    with caplog.at_level(logging.ERROR, logger="tmux_orc.core.persistence"):
        for _ in range(100):  # 100 cycles a second apart
            persistence.save()
            clock[0] += 1.0
        assert len(caplog.records) == 1 and "No space left" in caplog.records[0].getMessage()
        clock[0] += ERROR_LOG_EVERY
        persistence.save()
    assert len(caplog.records) == 2 and "100 more failed writes" in caplog.records[1].getMessage()
    assert persistence.saves_failed == 101


# --- D-Bus error messages -----------------------------------------------------------------------------
@pytest.mark.parametrize("exc", [errors.NotFound(f"no agent matches {'x' * 1_000_000!r} (try it)"),
                                 errors.InvalidArgument("y" * 1_000_000), RuntimeError("z" * 1_000_000)])
def test_error_replies_never_quote_a_huge_argument(exc: Exception) -> None:
    err = to_dbus_error(exc, "GetAgent")
    assert err.text is not None and len(err.text) <= MAX_MESSAGE + 60
    assert err.type.startswith("org.tmuxorc.Monitor1.Error.")


def test_a_state_file_with_huge_recovery_and_cooldown_maps_is_taken_capped() -> None:
    """Records and cooldowns from a state file are input: only the newest are taken back."""
    from tmux_orc.core import alerts, recovery_policy
    from tmux_orc.core.recovery_policy import RecoveryRecord

    policy = RecoveryPolicy()
    count = recovery_policy.MAX_RESTORED + 500
    many = {f"s:{i}": RecoveryRecord(attempts=1, last_attempt=float(i)) for i in range(count)}
    policy.restore(many)
    kept = policy.memory()
    assert len(kept) == recovery_policy.MAX_RESTORED
    assert f"s:{recovery_policy.MAX_RESTORED + 499}" in kept and "s:0" not in kept

    manager = alerts.NotificationManager()
    manager.restore({f"k{i}": float(i) for i in range(alerts.MAX_RESTORED + 10)})
    sent = manager.memory()
    assert len(sent) == alerts.MAX_RESTORED and "k0" not in sent
