"""Persistent state: what must survive a restart, in one JSON file written atomically.

``StateStore(directory)`` keeps ``state.json`` in a directory of mode 0700, the file mode 0600. A file
that cannot be trusted (a symlink, owned by someone else, or in a directory owned by someone else) is
refused with :class:`StateRefused`; a file that is merely unreadable (bad JSON, another schema) is moved
aside to ``state.json.corrupt-<timestamp>`` and an empty state is used instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from pathlib import Path
from typing import Literal

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

    model_config = ConfigDict(extra="forbid")

    state: State
    state_since: float
    detail: str = ""
    last_activity: float = 0.0
    role: Role = Role.AGENT
    kind: str = Field(str(Kind.UNKNOWN), max_length=64)
    pane_id: str = ""


class PersistedRollout(BaseModel):
    """The rollout stage and whether an operator (rather than automation) chose it."""

    model_config = ConfigDict(extra="forbid")

    stage: RolloutStage
    operator_set: bool = False
    frozen: bool = False  # rolled back automatically: no promotion until an operator sets the stage
    updated_at: float = 0.0


class PersistedState(BaseModel):
    """Everything in ``state.json``. Unknown keys or another schema version make the file unreadable."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    saved_at: float = 0.0
    agents: dict[str, PersistedAgent] = Field(default_factory=dict)
    alert_cooldowns: dict[str, float] = Field(default_factory=dict)
    recovery: dict[str, RecoveryRecord] = Field(default_factory=dict)
    rollout: PersistedRollout | None = None


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
        try:
            st = os.stat(self.directory)
        except OSError as exc:
            raise StateRefused(f"cannot use state directory {self.directory}: {exc.strerror}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise StateRefused(f"state directory {self.directory} is not a directory")
        if st.st_uid != os.geteuid():
            raise StateRefused(
                f"state directory {self.directory} belongs to uid {st.st_uid}, not to this user "
                f"(uid {os.geteuid()}); fix its owner or choose another TMUX_ORC_STATE_DIR"
            )
        if stat.S_IMODE(st.st_mode) & 0o077:
            log.warning(
                "state directory %s had mode %o; setting 0700", self.directory, stat.S_IMODE(st.st_mode)
            )
            os.chmod(self.directory, 0o700)

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
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise StateRefused(f"state file {self.path} is not a regular file")
            if st.st_uid != os.geteuid():
                raise StateRefused(
                    f"state file {self.path} belongs to uid {st.st_uid}, not to this user "
                    f"(uid {os.geteuid()}); refusing to read it"
                )
            if stat.S_IMODE(st.st_mode) & 0o077:
                log.warning("state file %s had mode %o; setting 0600", self.path, stat.S_IMODE(st.st_mode))
                os.fchmod(handle.fileno(), 0o600)
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return self._move_aside(f"larger than {MAX_FILE_BYTES} bytes")
        try:
            state = PersistedState.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "file"
            return self._move_aside(f"{where}: {first.get('msg', 'invalid')}")
        self._last_body = state.model_dump_json(exclude={"saved_at"}).encode()
        return state

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
