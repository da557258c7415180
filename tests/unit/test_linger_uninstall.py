"""Lingering (logind / loginctl, parsing and advice), install's --linger flow, and uninstall."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tmux_orc.cli import install, linger, uninstall
from tmux_orc.cli.linger import Linger, LingerUnknown


class Recorder:
    """A runner answering from a table keyed by the command's second word."""

    def __init__(self, answers: Mapping[str, tuple[int, str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
        self.calls.append(list(argv))
        key = argv[2] if len(argv) > 2 and argv[1] == "--user" else argv[1]
        return self.answers.get(key, (0, ""))


def _bin(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    _bin(tmp_path / "venv" / "bin" / "tmux-orcd")
    _bin(tmp_path / "sysbin" / "systemctl")
    _bin(tmp_path / "sysbin" / "loginctl")
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": str(tmp_path / "sysbin"),
        "PYTHON": str(tmp_path / "venv" / "bin" / "python"),
    }


def _install(env: dict[str, str], runner: Recorder, state: Linger, **flags: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, Any] = {"user": True, "enable": True, "dry_run": False, "inet": False} | flags
    status = install.run_install(**options, out=out, err=err, env=env, runner=runner, executable=env["PYTHON"],
                                 linger_probe=lambda: state)  # fmt: skip
    return status, out.getvalue(), err.getvalue()


# --- parsing and advice ----------------------------------------------------------------------------


@pytest.mark.parametrize(("output", "expected"), [("Linger=yes\n", True), ("Linger=no", False)])
def test_parse_loginctl(output: str, expected: bool) -> None:
    assert linger.parse_loginctl(output) is expected


def test_parse_loginctl_without_the_property_is_unknown() -> None:
    with pytest.raises(LingerUnknown):
        linger.parse_loginctl("Name=me\n")


def test_advice_says_what_happens_at_logout() -> None:
    assert linger.linger_advice(Linger("me", True, "logind")) == ""
    off = linger.linger_advice(Linger("me", False, "loginctl"))
    assert "lingering is off for me" in off and "unwatched" in off and "no recovery of a crashed PM" in off
    assert "loginctl enable-linger me" in off
    unknown = linger.linger_advice(Linger("me", None, "", "logind: no system bus"))
    assert "cannot tell" in unknown and "no system bus" in unknown and "loginctl enable-linger me" in unknown


def test_loginctl_answers_when_the_system_bus_does_not(home: dict[str, str], tmp_path: Path) -> None:
    env = home | {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-system-bus"}
    state = linger.query_linger(env, Recorder({"show-user": (0, "Linger=yes\n")}), user="me")
    assert (state.enabled, state.source) == (True, "loginctl")


def test_neither_logind_nor_loginctl_is_unknown_with_both_reasons(home: dict[str, str], tmp_path: Path) -> None:
    env = home | {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-system-bus", "PATH": str(tmp_path / "none")}
    state = linger.query_linger(env, Recorder(), user="me")
    assert state.enabled is None
    assert "logind:" in state.why_unknown and "loginctl is not installed" in state.why_unknown


# --- install --enable / --linger -------------------------------------------------------------------


def test_enable_reports_lingering_on(home: dict[str, str]) -> None:
    status, out, err = _install(home, Recorder(), Linger("me", True, "logind"))
    assert status == 0 and err == ""
    assert "lingering is on for me" in out


def test_enable_warns_plainly_when_lingering_is_off(home: dict[str, str]) -> None:
    runner = Recorder()
    status, _, err = _install(home, runner, Linger("me", False, "logind"))
    assert status == 0
    assert "warning: lingering is off for me: at logout systemd stops" in err
    assert not any("enable-linger" in call for call in runner.calls)  # only with --linger


def test_linger_runs_loginctl_enable_linger(home: dict[str, str]) -> None:
    runner = Recorder()
    status, out, _ = _install(home, runner, Linger("me", False, "logind"), linger=True)
    assert status == 0
    assert runner.calls[-1][1:] == ["enable-linger", "me"]
    assert "ran loginctl enable-linger me" in out


def test_linger_failure_fails_and_says_what_logout_does(home: dict[str, str]) -> None:
    runner = Recorder({"enable-linger": (1, "Access denied")})
    status, _, err = _install(home, runner, Linger("me", None, "", "no logind"), linger=True)
    assert status == 1
    assert "loginctl enable-linger me failed (1): Access denied" in err and "unwatched" in err


def test_linger_without_loginctl_fails(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "sysbin" / "loginctl").unlink()
    status, _, err = _install(home, Recorder(), Linger("me", False, "logind"), linger=True)
    assert status == 1 and "loginctl is not installed" in err


def test_dry_run_names_the_linger_command(home: dict[str, str]) -> None:
    status, out, _ = _install(home, Recorder(), Linger("me", False, "logind"), linger=True, dry_run=True)
    assert status == 0 and "would run (if lingering is off): loginctl enable-linger" in out


def test_inet_is_rendered_only_when_asked() -> None:
    assert "RestrictAddressFamilies=AF_UNIX\n" in install.render_unit("/usr/bin/tmux-orcd")
    assert "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n" in install.render_unit("/usr/bin/tmux-orcd", inet=True)


def test_extra_documentation_uris_are_escaped_and_checked() -> None:
    unit = install.render_unit("/usr/bin/tmux-orcd", docs=["file:///a%20b/tmux-orc.1"])
    assert "Documentation=man:tmux-orc(1) file:///a%%20b/tmux-orc.1\n" in unit
    with pytest.raises(ValueError):
        install.render_unit("/usr/bin/tmux-orcd", docs=["file:///a b"])


# --- uninstall ---------------------------------------------------------------------------------------


def _uninstall(env: dict[str, str], runner: Recorder, dry_run: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = uninstall.run_uninstall(dry_run=dry_run, out=out, err=err, env=env, runner=runner)
    return status, out.getvalue(), err.getvalue()


def test_uninstall_removes_exactly_what_install_wrote(home: dict[str, str]) -> None:
    assert _install(home, Recorder(), Linger("me", True, "logind"), enable=False)[0] == 0
    written = [install.unit_path(home), install.activation_path(home), install.manpage_path(home)]
    assert all(path.exists() for path in written)
    drop_in = install.unit_path(home).with_name("tmux-orc.service.d") / "mine.conf"
    drop_in.parent.mkdir()
    drop_in.write_text("[Service]\nEnvironment=A=1\n")

    runner = Recorder()
    status, out, _ = _uninstall(home, runner, dry_run=True)
    assert status == 0 and runner.calls == []
    assert all(path.exists() for path in written)
    assert "would run: systemctl --user disable --now tmux-orc.service" in out
    assert all(f"would remove {path}" in out for path in written)

    status, out, err = _uninstall(home, runner)
    assert (status, err) == (0, "")
    assert [call[1:] for call in runner.calls] == [
        ["--user", "disable", "--now", "tmux-orc.service"],
        ["--user", "daemon-reload"],
    ]
    assert not any(path.exists() for path in written)
    assert drop_in.exists() and "kept" in out

    status, out, _ = _uninstall(home, Recorder({"disable": (1, "Unit file tmux-orc.service does not exist.")}))
    assert status == 0 and "was not installed" in out and "absent" in out


def test_uninstall_leaves_a_unit_it_did_not_write(home: dict[str, str]) -> None:
    unit = install.unit_path(home)
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/usr/bin/something-else\n")
    status, _, err = _uninstall(home, Recorder())
    assert status == 0 and unit.exists() and "left" in err


def test_uninstall_reports_a_failed_disable(home: dict[str, str]) -> None:
    status, _, err = _uninstall(home, Recorder({"disable": (1, "Access denied")}))
    assert status == 1 and "failed (1): Access denied" in err


def test_installed_man_page_is_where_man_finds_it(home: dict[str, str], tmp_path: Path) -> None:
    """man-db searches ../share/man of each PATH entry: ~/.local/bin on PATH finds ~/.local/share/man."""
    import shutil
    import subprocess

    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    env = {key: value for key, value in home.items() if key != "XDG_DATA_HOME"}  # the XDG default
    assert _install(env, Recorder(), Linger("me", True, "logind"), enable=False)[0] == 0
    page = install.manpage_path(env)
    assert page == Path(env["HOME"], ".local", "share", "man", "man1", "tmux-orc.1") and page.is_file()
    local_bin = Path(env["HOME"], ".local", "bin")
    local_bin.mkdir(parents=True)
    done = subprocess.run(["man", "-w", "tmux-orc"], capture_output=True, text=True, timeout=60,
                          env={"HOME": env["HOME"], "PATH": f"{local_bin}:/usr/bin:/bin"})  # fmt: skip
    assert done.stdout.strip() == str(page), done.stderr
