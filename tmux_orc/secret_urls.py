"""Apprise URLs as settings: they hold tokens and passwords, so they never show as they are.

A :class:`SecretUrl` prints (``str``, ``repr``, pydantic serialisation, D-Bus conversion) as
:func:`redact_url` makes it: the scheme and a host name, nothing else (``json://127.0.0.1:8080/…``,
``tgram://***/…``). Only the channel adapter calls :meth:`SecretUrl.reveal`.

An entry may start with routing tags, as in Apprise's own text configuration:
``critical,crashed=mailto://...`` (see :func:`split_tags`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from tmux_orc.model import SEVERITY_RANK, AlertKind

_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]{0,31}://"
_TAGS = r"[a-z_]+(?:\s*,\s*[a-z_]+)*"
_ENTRY = re.compile(rf"^(?:(?P<tags>{_TAGS})\s*=\s*)?(?P<url>{_SCHEME}\S+)$")
_TAG_WORD = re.compile(r"^[a-z_]+$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
MAX_ENTRY = 4096


def split_tags(entry: str) -> tuple[frozenset[str], str]:
    """``"critical,crashed=mailto://x"`` -> ``({"critical", "crashed"}, "mailto://x")``."""
    match = _ENTRY.match(entry.strip())
    if match is None:
        raise ValueError("not an Apprise URL (expected scheme://..., optionally after tags=)")
    tags = match.group("tags") or ""
    return frozenset(t.strip() for t in tags.split(",") if t.strip()), match.group("url")


def _shown_host(netloc: str) -> str:
    host = netloc.rpartition("@")[2]
    name, port = host, ""
    if host.startswith("[") and "]" in host:  # [::1]:8080
        name, _, port = host[1:].partition("]")
        port = port.removeprefix(":")
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
    try:
        ipaddress.ip_address(name)
        plain = True
    except ValueError:
        plain = name == "localhost" or (bool(_HOSTNAME.match(name)) and len(name) <= 80)
    if not plain:
        return "***"  # a token in the host's place (tgram://BOTTOKEN, slack://T000/...)
    shown = f"[{name}]" if ":" in name else name
    return shown + (f":{port}" if port.isdigit() else "")


def redact_url(entry: str) -> str:
    """Scheme, tags and host only; credentials, paths, tokens and query parameters masked."""
    try:
        tags, url = split_tags(entry)
    except ValueError:
        return "(not a URL)"
    scheme, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    shown = f"{scheme}://" + ("***@" if "@" in netloc else "") + _shown_host(netloc)
    if len(netloc) < len(rest):
        shown += "/…"
    return (",".join(sorted(tags)) + "=" if tags else "") + shown


def check_entry(entry: str) -> str:
    """The entry, stripped, if it is a URL (with optional known tags); ValueError never quoting it."""
    entry = entry.strip()
    if len(entry) > MAX_ENTRY or re.search(r"[\x00-\x1f\x7f]", entry):
        raise ValueError("an URL is too long or holds control characters")
    tags, url = split_tags(entry)
    unknown = tags - known_tags()
    if unknown:
        known = ", ".join(sorted(known_tags()))
        raise ValueError(f"unknown routing tag(s) {', '.join(sorted(unknown))} (known: {known})")
    quiet_apprise()
    from apprise import Apprise, AppriseAsset  # lazy: only settings that name channels need it

    if Apprise.instantiate(url, asset=AppriseAsset(storage_mode="memory"), suppress_exceptions=True) is None:
        raise ValueError(f"Apprise cannot use an URL of the form {redact_url(url)} (unknown scheme or "
                         "missing parts; see the Apprise wiki for its syntax)")
    return entry


def quiet_apprise() -> logging.Logger:
    """Apprise's own log lines (and those of urllib3 under it) may quote URLs: they never reach the
    daemon's log (the channel adapter reads Apprise's through its own handler, secrets scrubbed).
    Returns the ``apprise`` logger."""
    for name in ("urllib3", "apprise"):  # urllib3 (under requests) logs request paths at debug level
        logger = logging.getLogger(name)
        if logger.propagate:
            logger.propagate = False
            logger.addHandler(logging.NullHandler())
            logger.setLevel(logging.WARNING)
    return logger


def known_tags() -> frozenset[str]:
    """Severity names and alert kinds (``crashed``, ``stuck``, ...)."""
    return frozenset(SEVERITY_RANK) | frozenset(str(k) for k in AlertKind)


class SecretUrl:
    """One Apprise URL (with optional routing tags) that never prints as it is."""

    __slots__ = ("_entry",)

    def __init__(self, entry: str) -> None:
        self._entry = check_entry(entry)

    def reveal(self) -> str:
        """The URL itself, for the sending adapter only."""
        return self._entry

    def __str__(self) -> str:
        return redact_url(self._entry)

    def __repr__(self) -> str:
        return f"SecretUrl({redact_url(self._entry)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._entry == self._entry

    def __hash__(self) -> int:
        return hash(self._entry)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Validated from a string; serialised (``model_dump``, JSON) in its redacted form."""
        return core_schema.no_info_plain_validator_function(
            cls._validate, serialization=core_schema.plain_serializer_function_ser_schema(str))

    @classmethod
    def _validate(cls, value: object) -> SecretUrl:
        if isinstance(value, SecretUrl):
            return value
        if not isinstance(value, str):
            raise ValueError("each URL must be a string")
        return cls(value)


def split_url_list(text: str) -> list[str]:
    """An environment value: a JSON list, or URLs separated by commas or spaces (tags may lead an
    URL: ``critical,crashed=mailto://...``). An URL holding a comma needs the JSON form."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("starts with '[' but is not a JSON list") from None
        if not isinstance(value, list):
            raise ValueError("not a JSON list")
        return [str(v) for v in value]
    entries: list[str] = []
    tags: list[str] = []
    for token in re.split(r"[\s,]+", text):
        if "://" in token:
            if tags:  # "critical,crashed=mailto://..." came apart at its comma
                own_tags = "=" in token.split("://", 1)[0]
                token = ",".join(tags) + ("," if own_tags else "=") + token
            entries.append(token)
            tags = []
        elif _TAG_WORD.match(token):
            tags.append(token)
        elif token:
            raise ValueError("an URL holds a comma or a space: give the list as JSON")
    if tags:
        raise ValueError("tags without an URL after them")
    return entries


def read_url_file(path: Path) -> list[SecretUrl]:
    """URLs from a private file, one a line (``#`` comments, blank lines skipped). ValueError unless
    the file is yours and neither group nor others may read or write it (mode 0600 or 0400)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise ValueError(f"cannot open {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_uid != os.geteuid():
            raise ValueError(f"{path} is owned by uid {info.st_uid}, not by you (uid {os.geteuid()})")
        if info.st_mode & 0o077:
            raise ValueError(f"{path} has mode {stat.S_IMODE(info.st_mode):04o}; it holds secrets: "
                             f"chmod 600 {path}")
        raw = handle.read(1 << 20)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    urls: list[SecretUrl] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            urls.append(SecretUrl(line))
        except ValueError as exc:
            raise ValueError(f"{path} line {number}: {exc}") from None
    return urls
