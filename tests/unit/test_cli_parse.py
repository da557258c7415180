"""The command line's shape: every command of the contract parses, usage errors exit 2."""

from __future__ import annotations

import io

import pytest

from tmux_orc.cli import agents_cmds, hook, monitor_cmds
from tmux_orc.cli.main import build_parser, call_timeout, main
from tmux_orc.cli.monitor_cmds import journalctl_argv


def parse(*argv: str) -> object:
    return build_parser().parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["monitor", "start"], monitor_cmds.start),
        (["monitor", "stop"], monitor_cmds.stop),
        (["monitor", "status"], monitor_cmds.status),
        (["monitor", "reload"], monitor_cmds.reload),
        (["monitor", "rollout"], monitor_cmds.rollout),
        (["monitor", "rollout", "canary"], monitor_cmds.rollout),
        (["monitor", "recover", "team:Claude-pm"], monitor_cmds.recover),
        (["monitor", "metrics", "--json"], monitor_cmds.metrics),
        (["agents"], agents_cmds.agents),
        (["agents", "--watch", "--interval", "0.5"], agents_cmds.agents),
        (["explain", "%3"], agents_cmds.explain),
    ],
)
def test_daemon_commands_parse(argv: list[str], command: object) -> None:
    args = parse(*argv)
    assert args.client_command is command  # type: ignore[attr-defined]


def test_local_commands_parse() -> None:
    assert parse("hook", "Notification").local_command is hook.run_hook  # type: ignore[attr-defined]
    assert parse("monitor", "logs", "-f", "-n", "20").local_command is monitor_cmds.logs  # type: ignore[attr-defined]
    install = parse("install", "--user", "--enable", "--dry-run")
    assert (install.user, install.enable, install.dry_run) == (True, True, True)  # type: ignore[attr-defined]
    demo = parse("demo", "--agents", "3", "--duration", "8")
    assert (demo.agents, demo.duration) == (3, 8.0)  # type: ignore[attr-defined]
    assert parse("demo").duration is None  # type: ignore[attr-defined]


def test_json_flag_on_every_listing_command() -> None:
    for argv in (
        ["monitor", "status"],
        ["monitor", "rollout"],
        ["monitor", "metrics"],
        ["agents"],
        ["explain", "x"],
    ):
        assert parse(*argv, "--json").json is True  # type: ignore[attr-defined]
        assert parse(*argv).json is False  # type: ignore[attr-defined]


def test_rollout_stage_is_left_to_the_daemon_to_validate() -> None:
    # A wrong stage is the daemon's InvalidArgument (exit 1), not a usage error.
    assert parse("monitor", "rollout", "sideways").stage == "sideways"  # type: ignore[attr-defined]
    assert parse("monitor", "rollout").stage is None  # type: ignore[attr-defined]


def test_recover_defaults() -> None:
    args = parse("monitor", "recover", "%1")
    assert (args.wait, args.timeout) == (False, 300.0)  # type: ignore[attr-defined]
    args = parse("monitor", "recover", "%1", "--wait", "--timeout", "5", "--command", "claude --continue")
    assert (args.wait, args.timeout) == (True, 5.0)  # type: ignore[attr-defined]
    assert args.command == "claude --continue"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "argv",
    [
        ["monitor"],
        ["monitor", "jump"],
        ["monitor", "recover"],
        ["monitor", "recover", "%1", "--timeout", "0"],
        ["monitor", "logs", "-n", "0"],
        ["agents", "--interval", "-1"],
        ["agents", "--interval", "soon"],
        ["explain"],
        ["hook"],
        ["demo", "--agents", "0"],
        ["demo", "--duration", "inf"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert "tmux-orc" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "exit status" in capsys.readouterr().out


def test_journalctl_command_filters_by_identifier() -> None:
    assert journalctl_argv(follow=False, lines=None) == [
        "journalctl",
        "--no-pager",
        "SYSLOG_IDENTIFIER=tmux-orc",
    ]
    assert journalctl_argv(follow=True, lines=50)[3:] == ["--follow", "--lines", "50"]


def test_call_timeout_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMUX_ORC_CLI_TIMEOUT", "2.5")
    assert call_timeout() == 2.5
    monkeypatch.setenv("TMUX_ORC_CLI_TIMEOUT", "nonsense")
    assert call_timeout() == 10.0
    monkeypatch.setenv("TMUX_ORC_CLI_TIMEOUT", "-1")
    assert call_timeout() == 10.0


def test_install_calls_the_installer(monkeypatch: pytest.MonkeyPatch) -> None:
    import tmux_orc.cli.install as install_module

    seen: dict[str, object] = {}

    def fake_run_install(*, user: bool, enable: bool, dry_run: bool, out: io.StringIO, linger: bool) -> int:
        seen.update(user=user, enable=enable, dry_run=dry_run, out=out, linger=linger)
        return 0

    monkeypatch.setattr(install_module, "run_install", fake_run_install)
    assert main(["install", "--user", "--dry-run"]) == 0
    assert seen["user"] is True and seen["dry_run"] is True and seen["enable"] is False
    assert seen["linger"] is False
    assert main(["install", "--enable", "--linger"]) == 0
    assert seen["linger"] is True and seen["enable"] is True
