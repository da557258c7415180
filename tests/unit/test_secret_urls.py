"""Apprise URLs in settings: redacted wherever they show, read from a private file only."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from tmux_orc.config import ConfigError, Settings, load_settings
from tmux_orc.secret_urls import SecretUrl, read_url_file, redact_url, split_url_list

SECRET = "hunter2-token"


@pytest.mark.parametrize(("url", "shown"), [
    (f"json://127.0.0.1:8080/hook/{SECRET}?x=1", "json://127.0.0.1:8080/…"),
    (f"mailto://bob:{SECRET}@smtp.example.org:587?to=a@b", "mailto://***@smtp.example.org:587/…"),
    (f"tgram://123456:{SECRET}/999", "tgram://***/…"),
    (f"slack://{SECRET}/B2/C3", "slack://***/…"),
    (f"ntfy://ntfy.sh/{SECRET}", "ntfy://ntfy.sh/…"),
    (f"critical,crashed=ntfy://{SECRET}", "crashed,critical=ntfy://***"),
    ("http://[::1]:80/x", "http://[::1]:80/…"),
])
def test_redact_keeps_scheme_tags_and_plain_hosts_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secret_url_never_prints_as_it_is() -> None:
    settings = Settings(notify_urls=[f"json://127.0.0.1/{SECRET}"])
    url = settings.notify_urls[0]
    assert url.reveal() == f"json://127.0.0.1/{SECRET}"
    for text in (str(url), repr(url), repr(settings), json.dumps(settings.model_dump(mode="json")),
                 settings.model_dump_json(), str(settings.model_dump())):
        assert SECRET not in text
    assert settings.model_dump(mode="json")["notify_urls"] == ["json://127.0.0.1/…"]
    assert url == SecretUrl(f"json://127.0.0.1/{SECRET}")


def test_environment_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX_ORC_NOTIFY_URLS", "json://127.0.0.1/a, critical,crashed=json://127.0.0.1/b")
    monkeypatch.setenv("TMUX_ORC_AUTO_RESUME", "developer,qa")
    settings = load_settings()
    assert [u.reveal() for u in settings.notify_urls] == ["json://127.0.0.1/a", "critical,crashed=json://127.0.0.1/b"]
    assert settings.auto_resume == ["developer", "qa"]
    monkeypatch.setenv("TMUX_ORC_NOTIFY_URLS", '["json://127.0.0.1/a?to=x,y"]')
    monkeypatch.setenv("TMUX_ORC_AUTO_RESUME", "true")
    settings = load_settings()
    assert settings.notify_urls[0].reveal() == "json://127.0.0.1/a?to=x,y" and settings.auto_resume is True
    assert split_url_list("") == []


@pytest.mark.parametrize("value", ["not-an-url", f"bogus://{SECRET}", f"nosuchtag=json://127.0.0.1/{SECRET}",
                                   f"json://127.0.0.1/{SECRET},oops"])
def test_bad_urls_are_refused_without_showing_them(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(notify_urls=[value] if "oops" not in value else value)
    assert "notify_urls" in str(raised.value).lower() and SECRET not in str(raised.value)


def test_url_file_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "urls"
    path.write_text(f"# comment\n\njson://127.0.0.1/{SECRET}\ncritical=mailto://u:{SECRET}@127.0.0.1:25?to=a@b&from=o@localhost\n")
    path.chmod(0o600)
    assert [str(u) for u in read_url_file(path)] == ["json://127.0.0.1/…", "critical=mailto://***@127.0.0.1:25/…"]
    assert len(Settings(notify_urls=["json://127.0.0.1/x"], notify_urls_file=path).channel_urls()) == 3
    path.chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_settings(notify_urls_file=path)
    path.chmod(0o600)
    path.write_text(f"json://127.0.0.1/ok\nhttp is {SECRET}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(notify_urls_file=path)
    assert "line 2" in str(raised.value) and SECRET not in str(raised.value)
    with pytest.raises(ConfigError, match="cannot open"):
        load_settings(notify_urls_file=tmp_path / "missing")
    if os.geteuid() == 0:  # root can hand the file to someone else and see it refused
        path.write_text("json://127.0.0.1/x\n")
        os.chown(path, 65534, 65534)
        with pytest.raises(ConfigError, match="not by you"):
            load_settings(notify_urls_file=path)


def test_apprise_log_lines_stay_out_of_the_log() -> None:
    # Our own handler on the root logger, as the daemon's (pytest's caplog also hooks loggers that
    # do not propagate, so it would see them).
    seen: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = seen.append  # type: ignore[method-assign]
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with pytest.raises(ConfigError):
            load_settings(notify_urls=[f"mailto://u:{SECRET}@127.0.0.1:25?to=not-an-address"])
    finally:
        root.removeHandler(handler)
    assert [r for r in seen if r.name.startswith(("apprise", "urllib3"))] == []
