"""Persistent state: what must survive a restart, in one JSON file written atomically.

``StateStore(directory)`` keeps ``state.json`` in a directory of mode 0700, the file mode 0600. A file
that cannot be trusted (a symlink, a hard link, not a regular file, owned by someone else, or in a
directory that is a symlink or owned by someone else) is refused with :class:`StateRefused`; nothing is
ever followed or chmod'ed through a link. A file that is merely unreadable (bad JSON, another schema) is
moved aside to ``state.json.corrupt-<timestamp>`` and an empty state is used instead. Numbers that are
not finite (``NaN``, ``Infinity``, ``1e999``) are dropped on load (the entry falls back to its default,
an agent without a finite ``state_since`` is forgotten) and can never be written.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import stat
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tmux_orc.atomicfile import write_atomic
from tmux_orc.core.recovery_policy import RecoveryRecord
from tmux_orc.model import Kind, Role, RolloutStage, State

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "state.json"
MAX_FILE_BYTES = 16 * 1024 * 1024
_TMP_PREFIX = f".{FILE_NAME}.tmp-"


class StateRefused(Exception):
    """The state file or directory is not safe to use (wrong owner, symlink); the message says why."""


class PersistedAgent(BaseModel):
    """One agent as remembered across restarts."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    state: State
    state_since: float
    detail: str = ""
    last_activity: float = 0.0
    role: Role = Role.AGENT
    kind: str = Field(str(Kind.UNKNOWN), max_length=64)
    pane_id: str = ""


class PersistedRollout(BaseModel):
    """The rollout stage and whether an operator (rather than automation) chose it."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    stage: RolloutStage
    operator_set: bool = False
    frozen: bool = False  # rolled back automatically: no promotion until an operator sets the stage
    updated_at: float = 0.0


class PersistedState(BaseModel):
    """Everything in ``state.json``. Unknown keys or another schema version make the file unreadable."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schema_version: Literal[1] = 1
    saved_at: float = 0.0
    agents: dict[str, PersistedAgent] = Field(default_factory=dict)
    alert_cooldowns: dict[str, float] = Field(default_factory=dict)
    recovery: dict[str, RecoveryRecord] = Field(default_factory=dict)
    rollout: PersistedRollout | None = None


_NOT_FINITE = object()  # what a NaN / Infinity / overflowing number parses to, before it is dropped


def _parse_float(text: str) -> object:
    value = float(text)
    return value if math.isfinite(value) else _NOT_FINITE


def _drop_not_finite(value: Any) -> tuple[Any, int]:
    """``value`` without the non-finite numbers (dict keys and list items holding one are left out)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        dropped = 0
        for key, item in value.items():
            if item is _NOT_FINITE or (isinstance(item, list) and _NOT_FINITE in item):
                dropped += 1
                continue
            out[key], n = _drop_not_finite(item)
            dropped += n
        return out, dropped
    if isinstance(value, list):
        items: list[Any] = []
        dropped = 0
        for item in value:
            if item is _NOT_FINITE or (isinstance(item, list) and _NOT_FINITE in item):
                dropped += 1
                continue
            cleaned, n = _drop_not_finite(item)
            items.append(cleaned)
            dropped += n
        return items, dropped
    return value, 0


def parse_state(raw: bytes) -> tuple[PersistedState, int]:
    """The state in ``raw`` and how many non-finite numbers were dropped from it.

    Raises ValueError (or pydantic's ValidationError) when it is not a readable state file.
    """
    data = json.loads(raw, parse_float=_parse_float, parse_constant=lambda _name: _NOT_FINITE)
    data, dropped = _drop_not_finite(data)
    if isinstance(data, dict) and isinstance(data.get("agents"), dict):
        # an agent whose state_since was not finite cannot say since when: it is forgotten
        kept = {k: a for k, a in data["agents"].items() if not isinstance(a, dict) or "state_since" in a}
        data["agents"] = kept
    return PersistedState.model_validate(data), dropped


class StateStore:
    """Loads and saves :class:`PersistedState` in ``directory/state.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._last_body: bytes | None = None  # the last state read or written, without saved_at

    # --- directory ---------------------------------------------------------------------------------
    def _ensure_directory(self) -> None:
        """Create the directory 0700, or check the existing one: ours, and no looser than 0700."""
        with contextlib.suppress(FileExistsError):
            self.directory.mkdir(parents=True, mode=0o700)
        if os.path.islink(self.directory):
            raise StateRefused(f"state directory {self.directory} is a symlink; refusing to follow it "
                               "(point TMUX_ORC_STATE_DIR at the real directory)")
        try:
            fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except NotADirectoryError:
            raise StateRefused(f"state directory {self.directory} is not a directory") from None
        except OSError as exc:
            raise StateRefused(f"cannot use state directory {self.directory}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                raise StateRefused(
                    f"state directory {self.directory} belongs to uid {st.st_uid}, not to this user "
                    f"(uid {os.geteuid()}); fix its owner or choose another TMUX_ORC_STATE_DIR"
                )
            if stat.S_IMODE(st.st_mode) & 0o077:
                log.warning(
                    "state directory %s had mode %o; setting 0700", self.directory, stat.S_IMODE(st.st_mode)
                )
                os.fchmod(fd, 0o700)  # the directory opened above, never what a link points to
        finally:
            os.close(fd)

    def _remove_stale_temporaries(self) -> None:
        """Temporary files left by a writer that died between write and rename."""
        for entry in self.directory.glob(_TMP_PREFIX + "*"):
            with contextlib.suppress(OSError):
                if entry.is_file() and not entry.is_symlink():
                    entry.unlink()

    # --- load --------------------------------------------------------------------------------------
    def load(self) -> PersistedState:
        """The saved state; an empty one when there is none or it was unreadable (then moved aside)."""
        self._ensure_directory()
        self._remove_stale_temporaries()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return PersistedState()
        except OSError as exc:
            if os.path.islink(self.path):
                raise StateRefused(
                    f"state file {self.path} is a symlink; refusing to follow it (remove it to start afresh)"
                ) from None
            raise StateRefused(f"cannot open state file {self.path}: {exc.strerror}") from None
        try:
            self._check_file(fd)
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return self._move_aside(f"larger than {MAX_FILE_BYTES} bytes")
        try:
            state, dropped = parse_state(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "file"
            return self._move_aside(f"{where}: {first.get('msg', 'invalid')}")
        except (ValueError, RecursionError) as exc:
            return self._move_aside(f"not JSON: {str(exc)[:120] or type(exc).__name__}")
        if dropped:
            log.warning("state file %s held %d numbers that are not finite (NaN / Infinity); left them out",
                        self.path, dropped)
            self._last_body = None  # written again, without them, at the next save
        else:
            self._last_body = state.model_dump_json(exclude={"saved_at"}).encode()
        return state

    def _check_file(self, fd: int) -> None:
        """Refuse a state file that is not ours alone: not a regular file, hard-linked, someone else's."""
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise StateRefused(f"state file {self.path} is a directory; remove it (or choose another "
                               "TMUX_ORC_STATE_DIR) and start again")
        if not stat.S_ISREG(st.st_mode):
            raise StateRefused(f"state file {self.path} is not a regular file")
        if st.st_nlink != 1:
            raise StateRefused(f"state file {self.path} has {st.st_nlink} hard links; refusing to use a file "
                               "shared with another path (remove it to start afresh)")
        if st.st_uid != os.geteuid():
            raise StateRefused(
                f"state file {self.path} belongs to uid {st.st_uid}, not to this user "
                f"(uid {os.geteuid()}); refusing to read it"
            )
        if stat.S_IMODE(st.st_mode) & 0o077:
            log.warning("state file %s had mode %o; setting 0600", self.path, stat.S_IMODE(st.st_mode))
            os.fchmod(fd, 0o600)

    def _move_aside(self, reason: str) -> PersistedState:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = self.directory / f"{FILE_NAME}.corrupt-{stamp}"
        n = 1
        while target.exists():
            n += 1
            target = self.directory / f"{FILE_NAME}.corrupt-{stamp}-{n}"
        os.replace(self.path, target)
        log.warning("state file %s is unreadable (%s); moved it to %s and starting afresh",
                    self.path, reason, target.name)
        return PersistedState()

    # --- save --------------------------------------------------------------------------------------
    def save(self, state: PersistedState) -> None:
        """Write atomically: temp file (O_EXCL, 0600), fsync, rename over, fsync the directory.

        A state equal to the last one written or read is not written again.
        """
        data = state.model_dump_json(exclude={"saved_at"}).encode()
        if data == self._last_body:
            return
        stamped = state.model_copy(update={"saved_at": time.time()})
        payload = stamped.model_dump_json(indent=1).encode()
        self._ensure_directory()
        write_atomic(self.path, payload, 0o600, tmp_prefix=_TMP_PREFIX, sync_directory=True)
        self._last_body = data
