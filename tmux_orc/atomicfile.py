"""Replace a file so that readers see the old content or the new, never a torn one."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o644, *, tmp_prefix: str | None = None,
                 sync_directory: bool = False) -> None:
    """Write ``data`` to a new file beside ``path`` (O_EXCL, exactly ``mode``), fsync it, rename it over.

    ``sync_directory`` also fsyncs the directory, so the rename itself survives a power cut.
    The temporary file is named ``<tmp_prefix><pid>-<random>`` (default ``.<name>.tmp-``).
    """
    prefix = tmp_prefix if tmp_prefix is not None else f".{path.name}.tmp-"
    tmp = path.with_name(f"{prefix}{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # exactly this mode, whatever the umask
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_directory:
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
