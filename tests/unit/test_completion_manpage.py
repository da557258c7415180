"""Shell completion (bash, zsh, fish) and the man page, both from the CLI's own parser; no-argument help."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tmux_orc.cli.completion import SHELLS, completion_script
from tmux_orc.cli.main import build_parser, main

REPO = Path(__file__).resolve().parents[2]
SUBCOMMANDS = ("monitor", "agents", "explain", "install", "uninstall", "doctor", "config", "completion", "demo")
CHECKERS = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


def _gen_data() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_data", REPO / "scripts" / "gen_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_is_valid_shell_and_names_the_subcommands(shell: str, tmp_path: Path) -> None:
    script = completion_script(build_parser(), shell)
    for name in SUBCOMMANDS:
        assert name in script, name
    assert "rollout" in script and ("--json" in script or "-l json" in script)
    checker = CHECKERS[shell]
    if shutil.which(checker[0]) is None:
        pytest.skip(f"{checker[0]} is not installed (scripts/setup installs it with the test deps)")
    path = tmp_path / f"completion.{shell}"
    path.write_text(script)
    done = subprocess.run([*checker, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_bash_completion_completes_a_subcommand(tmp_path: Path) -> None:
    """Loaded into a real bash, the function offers `doctor` for `tmux-orc doc<TAB>`."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    path = tmp_path / "tmux-orc.bash"
    path.write_text(completion_script(build_parser(), "bash"))
    probe = (f"source {path}; COMP_WORDS=(tmux-orc doc); COMP_CWORD=1; COMP_LINE='tmux-orc doc'; "
             "COMP_POINT=${#COMP_LINE}; _shtab_tmux_orc tmux-orc doc tmux-orc; printf '%s\\n' \"${COMPREPLY[@]}\"")
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["doctor"], done.stdout + done.stderr


def test_cli_prints_completion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "zsh"]) == 0
    assert "#compdef tmux-orc" in capsys.readouterr().out


def test_unsupported_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["completion", "tcsh-ish"])
    assert exc.value.code == 2
    with pytest.raises(ValueError):
        completion_script(build_parser(), "powershell")


def test_no_command_prints_the_help_and_exits_0() -> None:
    done = subprocess.run([sys.executable, "-m", "tmux_orc.cli.main"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("usage: tmux-orc") and "doctor" in done.stdout


def test_generated_files_are_current() -> None:
    gen = _gen_data()
    for path, content in gen.outputs().items():
        assert path.read_text() == content, f"{path.relative_to(REPO)} is out of date: run scripts/gen_data.py"


def test_man_page_covers_every_command_and_renders() -> None:
    page = (REPO / "tmux_orc" / "data" / "tmux-orc.1").read_text()
    assert page.startswith(".TH TMUX\\-ORC \"1\"")
    for name in SUBCOMMANDS:
        assert f"\\fI\\,{name}\\/\\fR" in page, name
    for section in ("EXIT STATUS", "FILES", "ENVIRONMENT", "SEE ALSO"):
        assert f".SH {section}" in page
    if shutil.which("man") is None:
        pytest.skip("man is not installed")
    done = subprocess.run(["man", "-l", "-P", "cat", str(REPO / "tmux_orc" / "data" / "tmux-orc.1")],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "MANWIDTH": "100"})
    assert done.returncode == 0 and "tmux-orc doctor" in done.stdout, done.stderr


def test_man_page_is_package_data() -> None:
    from importlib import resources

    assert resources.files("tmux_orc").joinpath("data", "tmux-orc.1").is_file()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"data/*"' in pyproject
