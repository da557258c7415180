"""Agent definitions as data: the built-in files, a person's own, and the errors a bad one gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import ctx, look, pane
from tmux_orc.detect.catalog import BUILTIN_CATALOG, load_catalog
from tmux_orc.detect.definition import DefinitionError, read_definition
from tmux_orc.detect.engine import classify
from tmux_orc.detect.process import find_agent
from tmux_orc.detect.profiles import load_agents
from tmux_orc.model import Kind, PaneInfo, ProcessFacts, ProcessInfo, State
from tmux_orc.procfs import ProcessTable

MYCLI = """
name = "mycli"
description = "a CLI of my own"

[process]
names = ["mycli"]

[resume]
command = "mycli --again"

[screen]
cursors = ""

[[screen.prompts]]
name = "mycli.prompt"
line = '^mycli> ?(?P<text>.*)$'
boxed = false
max_below = 0

[[rules]]
name = "mycli.thinking"
state = "working"
region = "tail"
pattern = 'is thinking\\.\\.\\.$'

[[rules]]
name = "mycli.typed"
state = "unsubmitted"
region = "input"
pattern = '\\S'

[[rules]]
name = "mycli.prompt"
state = "idle"
region = "input"
pattern = '^$'
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_definitions_cover_the_shipped_clis() -> None:
    names = list(BUILTIN_CATALOG.definitions)
    assert names[:4] == ["claude", "codex", "gemini", "aider"] and "shell" in names
    assert BUILTIN_CATALOG.resume_command("claude") == "claude --continue"
    assert BUILTIN_CATALOG.resume_command("codex") == "codex resume --last"
    for definition in BUILTIN_CATALOG.definitions.values():
        assert definition.source.startswith("built-in ")
        assert definition.profile.rules, definition.name
        if definition.name != Kind.SHELL:
            assert definition.program is not None and definition.resume
    names_of_rules = [r.name for p in BUILTIN_CATALOG.profiles for r in p.rules]
    assert len(names_of_rules) == len(set(names_of_rules))


def test_a_users_definition_is_picked_up_and_reads_its_screens(tmp_path: Path) -> None:
    write(tmp_path, "mycli.toml", MYCLI)
    catalog = load_catalog(tmp_path)
    assert catalog.agent_kinds[-1] == "mycli" and catalog.get("mycli").source == str(tmp_path / "mycli.toml")
    assert catalog.resume_command("mycli") == "mycli --again"
    facts = ProcessFacts(kind="mycli", agent_pid=300, commands=("bash", "mycli"))

    def state(screen: str) -> State:
        return classify(screen, pane(), facts, None, ctx(), catalog.profiles).verdict.state

    assert state("My CLI 1.0\nmycli> ") is State.IDLE
    assert state("My CLI 1.0\nmycli> fix the bug") is State.UNSUBMITTED
    assert state("mycli> work\nmycli is thinking...") is State.WORKING
    table = ProcessTable.from_processes([
        ProcessInfo(pid=100, ppid=1, state="S", comm="bash", argv=("bash",), pgrp=100, tpgid=300),
        ProcessInfo(pid=300, ppid=100, state="S", comm="mycli", argv=("/bin/bash", "/home/u/bin/mycli"),
                    pgrp=300, tpgid=300),
    ])
    pane_info = PaneInfo("%1", "s", 0, "w", 0, 100, "mycli")
    assert find_agent(pane_info, table, catalog.patterns).kind == "mycli"
    assert find_agent(pane_info, table).kind != "mycli"  # the built-ins alone do not know it


def test_a_users_definition_replaces_the_builtin_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "claude.toml", MYCLI.replace('name = "mycli"', 'name = "claude"'))
    catalog = load_catalog(tmp_path)
    assert next(iter(catalog.definitions)) == "claude"  # same place in the matching order
    assert catalog.resume_command("claude") == "mycli --again"
    assert look("mycli> ").verdict.state is not State.IDLE  # the built-ins are untouched


def test_user_rules_may_name_a_users_kind(tmp_path: Path) -> None:
    write(tmp_path / "agents", "mycli.toml", MYCLI)
    rules = write(tmp_path, "rules.toml", '[[rules]]\nkind = "mycli"\nname = "mine.done"\nstate = "idle"\n'
                                           'pattern = "^all done$"\nregion = "tail"\n')
    catalog = load_agents(tmp_path / "agents", rules)
    assert catalog.profiles.get("mycli").rules[0].name == "mine.done"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('name = "mycli"', 'name = "My CLI"'), "name = 'My CLI'"),
        (('state = "working"', 'state = "busy"'), "rules[0].state = 'busy'"),
        (('state = "working"', 'state = "crashed"'), "rules[0].state = 'crashed'"),
        (("pattern = 'is thinking", "pattern = '(is thinking"), "rules[0].pattern"),
        (('region = "tail"', 'region = "everywhere"'), "rules[0].region = 'everywhere'"),
        (('names = ["mycli"]', "names = []"), "process = "),
        (('names = ["mycli"]', 'names = ["mycli"]\ncolour = "red"'), "process.colour = 'red': unknown key"),
        (("line = '^mycli> ?(?P<text>.*)$'", "line = '^mycli> (.*)$'"), "(?P<text>...)"),
        (('[resume]\ncommand = "mycli --again"', "[resume]\ncommand = 3"), "resume.command = 3"),
        (('[resume]', '[hooks]\noffers = ["vim-plugin"]\n\n[resume]'), "hooks.offers = 'vim-plugin'"),
        (('name = "mycli"', 'name = "mycli"\n[['), "not valid TOML"),
    ],
)
def test_a_bad_definition_names_file_key_and_value(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = write(tmp_path, "mycli.toml", MYCLI.replace(*edit))
    with pytest.raises(DefinitionError) as info:
        load_catalog(tmp_path)
    text = str(info.value)
    assert str(path) in text and message in text and "\n" not in text


def test_no_folder_means_builtins_only(tmp_path: Path) -> None:
    assert list(load_catalog(tmp_path / "absent").definitions) == list(BUILTIN_CATALOG.definitions)
    write(tmp_path, "notes.txt", "not a definition")
    assert list(load_catalog(tmp_path).definitions) == list(BUILTIN_CATALOG.definitions)
    with pytest.raises(DefinitionError, match="not a directory"):
        load_catalog(tmp_path / "notes.txt")


def test_read_definition_of_a_builtin_file_round_trips() -> None:
    for definition in BUILTIN_CATALOG.definitions.values():
        path = Path(__file__).resolve().parents[2] / "tmux_orc" / "agents" / f"{definition.name}.toml"
        again = read_definition(path, timed=False)
        assert again.profile.rules == definition.profile.rules
