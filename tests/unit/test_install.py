"""``tmux-orc install``: templates, packaging files, paths and the install flow (no real systemd)."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from tmux_orc.cli import install
from tmux_orc.cli.linger import Linger

REPO = Path(__file__).resolve().parents[2]
PACKAGED_DAEMON = "/usr/bin/tmux-orcd"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _executable(path: Path, body: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o755)
    return path


class FakeRunner:
    """Records the commands ``run_install`` runs and answers with canned exit statuses."""

    def __init__(self, statuses: Mapping[str, int] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.statuses = dict(statuses or {})

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
        self.calls.append(list(argv))
        return self.statuses.get(argv[2], 0), "boom" if self.statuses.get(argv[2]) else ""


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An env with a venv-like bin dir (python + tmux-orcd), a systemctl on PATH and XDG dirs."""
    venv_bin = tmp_path / "venv" / "bin"
    _executable(venv_bin / "tmux-orcd")
    _executable(tmp_path / "sysbin" / "systemctl")
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": str(tmp_path / "sysbin"),
        "PYTHON": str(venv_bin / "python"),
    }


def _install(env: dict[str, str], runner: FakeRunner, **flags: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options: dict[str, Any] = {"user": True, "enable": False, "dry_run": False} | flags
    options.setdefault("inet", False)
    options.setdefault("linger_probe", lambda: Linger("me", True, "logind"))
    status = install.run_install(
        **options, out=out, err=err, env=env, runner=runner, executable=env["PYTHON"]
    )
    return status, out.getvalue(), err.getvalue()


# --- templates and packaging ---------------------------------------------------------------------


def test_packaging_files_are_the_templates_rendered_for_usr_bin() -> None:
    unit = (REPO / "packaging" / "systemd" / "tmux-orc.service").read_text()
    activation = (REPO / "packaging" / "dbus" / "org.tmuxorc.Monitor1.service").read_text()
    assert unit == install.render_unit(PACKAGED_DAEMON)
    assert activation == install.render_activation(PACKAGED_DAEMON)


def test_unit_has_the_service_contract() -> None:
    lines = _lines(install.render_unit(PACKAGED_DAEMON))
    for expected in [
        "Type=notify",
        "NotifyAccess=main",
        "BusName=org.tmuxorc.Monitor1",
        "ExecStart=/usr/bin/tmux-orcd",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure",
        "RestartSec=2",
        "RestartPreventExitStatus=78",
        "Environment=PYTHONFAULTHANDLER=1",
        "Environment=PYTHONUNBUFFERED=1",
        "SyslogIdentifier=tmux-orc",
        "KillMode=mixed",
        "NoNewPrivileges=yes",
        "WantedBy=default.target",
    ]:
        assert expected in lines
    assert any(line.startswith("WatchdogSec=") for line in lines)
    unit_section = lines[: lines.index("[Service]")]
    assert any(line.startswith("StartLimitIntervalSec=") for line in unit_section)
    assert any(line.startswith("StartLimitBurst=") for line in unit_section)
    # PrivateTmp would hide /tmp/tmux-UID; mount namespaces need user namespaces in user units.
    for forbidden in ("PrivateTmp", "ProtectSystem", "ProtectHome", "PrivateDevices", "StateDirectory"):
        assert not any(line.startswith(forbidden + "=") for line in lines)


def test_activation_file_names_the_bus_name_and_unit() -> None:
    lines = _lines(install.render_activation(PACKAGED_DAEMON))
    assert lines == [
        "[D-BUS Service]",
        "Name=org.tmuxorc.Monitor1",
        "Exec=/usr/bin/tmux-orcd",
        "SystemdService=tmux-orc.service",
    ]


@pytest.mark.parametrize("dirname", ["bin", "dir with space", "per%cent$dollar"])
def test_rendered_unit_passes_systemd_analyze_verify(tmp_path: Path, dirname: str) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    daemon = _executable(tmp_path / dirname / "tmux-orcd")
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    unit_file = unit_dir / install.UNIT_NAME
    unit_file.write_text(install.render_unit(str(daemon)))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    man1 = tmp_path / "man" / "man1"  # where install puts the page: verify checks Documentation=man:
    man1.mkdir(parents=True)
    (man1 / install.MANPAGE).write_text(install.read_template(install.MANPAGE))
    env = {"PATH": os.environ.get("PATH", os.defpath), "XDG_RUNTIME_DIR": str(runtime),
           "MANPATH": str(tmp_path / "man")}
    done = subprocess.run(
        [analyze, "--user", "verify", str(unit_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tmux-orc.service" not in done.stderr, done.stderr  # no warnings about our unit


def test_exec_words_escape_what_each_format_interprets() -> None:
    assert install.systemd_exec_word("/usr/bin/tmux-orcd") == "/usr/bin/tmux-orcd"
    assert install.systemd_exec_word("/a b/x") == '"/a b/x"'
    assert install.systemd_exec_word("/p%c/$HOME") == '"/p%%c/$HOME"'
    assert install.systemd_exec_word('/q"b\\') == '"/q\\"b\\\\"'
    assert install.dbus_exec_word("/usr/bin/tmux-orcd") == "/usr/bin/tmux-orcd"
    assert install.dbus_exec_word("/a b/it's") == "'/a b/it'\"'\"'s'"
    with pytest.raises(ValueError, match="absolute"):
        install.systemd_exec_word("bin/tmux-orcd")
    with pytest.raises(ValueError, match="control character"):
        install.dbus_exec_word("/a\nb")


# --- paths ---------------------------------------------------------------------------------------


def test_paths_honour_xdg_and_fall_back_to_home() -> None:
    env = {"HOME": "/h", "XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}
    assert install.unit_path(env) == Path("/c/systemd/user/tmux-orc.service")
    assert install.activation_path(env) == Path("/d/dbus-1/services/org.tmuxorc.Monitor1.service")
    bare = {"HOME": "/h", "XDG_CONFIG_HOME": "relative/ignored"}
    assert install.unit_path(bare) == Path("/h/.config/systemd/user/tmux-orc.service")
    assert install.activation_path(bare) == Path(
        "/h/.local/share/dbus-1/services/org.tmuxorc.Monitor1.service"
    )


def test_find_daemon_prefers_the_interpreters_bin_dir(tmp_path: Path) -> None:
    venv_daemon = _executable(tmp_path / "venv" / "bin" / "tmux-orcd")
    path_daemon = _executable(tmp_path / "elsewhere" / "tmux-orcd")
    env = {"PATH": str(path_daemon.parent)}
    assert install.find_daemon(env, str(tmp_path / "venv" / "bin" / "python")) == venv_daemon
    assert install.find_daemon(env, str(tmp_path / "nobin" / "python")) == path_daemon
    assert install.find_daemon({"PATH": str(tmp_path / "none")}, str(tmp_path / "x" / "python")) is None


# --- the install flow ----------------------------------------------------------------------------


def test_dry_run_prints_contents_and_writes_nothing(home: dict[str, str]) -> None:
    runner = FakeRunner()
    status, out, _ = _install(home, runner, dry_run=True, enable=True)
    assert status == 0
    daemon = str(Path(home["PYTHON"]).parent / "tmux-orcd")
    assert f"would write {home['XDG_CONFIG_HOME']}/systemd/user/tmux-orc.service:" in out
    assert f"ExecStart={daemon}" in out
    assert f"Exec={daemon}" in out
    assert "would run: systemctl --user enable --now tmux-orc.service" in out
    assert runner.calls == []
    assert not Path(home["XDG_CONFIG_HOME"]).exists()
    assert not Path(home["XDG_DATA_HOME"]).exists()


def test_install_writes_both_files_and_reloads(home: dict[str, str]) -> None:
    runner = FakeRunner()
    status, out, err = _install(home, runner)
    assert (status, err) == (0, "")
    daemon = str(Path(home["PYTHON"]).parent / "tmux-orcd")
    unit = install.unit_path(home)
    activation = install.activation_path(home)
    assert unit.read_text() == install.render_unit(daemon)
    assert activation.read_text() == install.render_activation(daemon)
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert f"wrote {unit}" in out and f"wrote {activation}" in out
    assert install.manpage_path(home).read_text().startswith(".TH TMUX")
    assert [call[1:] for call in runner.calls] == [["--user", "daemon-reload"]]
    assert sorted(p.name for p in unit.parent.iterdir()) == ["tmux-orc.service"]  # no temp files left

    status, out, _ = _install(home, runner)
    assert status == 0
    assert f"unchanged {unit}" in out


def test_install_replaces_a_stale_unit(home: dict[str, str]) -> None:
    unit = install.unit_path(home)
    unit.parent.mkdir(parents=True)
    unit.write_text("[Service]\nExecStart=/old/tmux-orcd\n")
    status, _, _ = _install(home, FakeRunner())
    assert status == 0
    assert "ExecStart=/old/tmux-orcd" not in unit.read_text()


def test_enable_runs_enable_now(home: dict[str, str]) -> None:
    runner = FakeRunner()
    status, out, _ = _install(home, runner, enable=True)
    assert status == 0
    assert [call[1:] for call in runner.calls] == [
        ["--user", "daemon-reload"],
        ["--user", "enable", "--now", "tmux-orc.service"],
    ]
    assert "enabled and started tmux-orc.service" in out


def test_daemon_reload_failure_is_a_warning(home: dict[str, str]) -> None:
    status, _, err = _install(home, FakeRunner({"daemon-reload": 1}))
    assert status == 0
    assert err.startswith("warning: systemctl --user daemon-reload failed (1): boom")


def test_enable_failure_fails(home: dict[str, str]) -> None:
    status, _, err = _install(home, FakeRunner({"enable": 1}), enable=True)
    assert status == 1
    assert "enable --now tmux-orc.service failed (1): boom" in err


def test_missing_systemctl_is_a_warning_unless_enabling(home: dict[str, str]) -> None:
    env = home | {"PATH": "/nonexistent"}
    status, _, err = _install(env, FakeRunner())
    assert status == 0 and "warning: systemctl not found" in err
    status, _, err = _install(env, FakeRunner(), enable=True)
    assert status == 1 and "cannot enable" in err


def test_runner_oserror_is_reported(home: dict[str, str]) -> None:
    def broken(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, str]:
        raise FileNotFoundError(argv[0])

    out, err = io.StringIO(), io.StringIO()
    status = install.run_install(
        user=True,
        enable=True,
        dry_run=False,
        out=out,
        err=err,
        env=home,
        runner=broken,
        executable=home["PYTHON"],
    )
    assert status == 1
    assert "warning: systemctl --user daemon-reload failed (127)" in err.getvalue()


def test_system_wide_install_is_a_usage_error(home: dict[str, str]) -> None:
    status, out, err = _install(home, FakeRunner(), user=False)
    assert status == 2 and out == ""
    assert "only per-user installs" in err


def test_missing_daemon_fails(home: dict[str, str], tmp_path: Path) -> None:
    env = home | {"PYTHON": str(tmp_path / "novenv" / "python")}
    status, _, err = _install(env, FakeRunner())
    assert status == 1
    assert "cannot find tmux-orcd" in err


def test_unwritable_target_fails(home: dict[str, str]) -> None:
    Path(home["XDG_CONFIG_HOME"]).write_text("a file where a directory should be")
    status, _, err = _install(home, FakeRunner())
    assert status == 1
    assert "cannot write" in err


def test_cli_install_defaults_to_a_user_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tmux-orc install --dry-run` (no --user) is a user install: --user is the default mode."""
    from tmux_orc.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if install.find_daemon(os.environ) is None:
        pytest.skip("tmux-orcd is not installed next to this interpreter")
    assert main(["install", "--dry-run"]) == 0
    assert (
        f"would write {tmp_path / 'cfg' / 'systemd' / 'user' / 'tmux-orc.service'}:"
        in capsys.readouterr().out
    )
    assert main(["install", "--user", "--dry-run"]) == 0
