"""Profiles: the other agents' screens, and user rules from TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.detect_helpers import alive, ctx, pane
from tmux_orc.detect.engine import classify
from tmux_orc.detect.profiles import DEFAULT_PROFILES, load_profiles
from tmux_orc.model import Kind, ProcessFacts, State

BOX_TOP, BOX_BOTTOM = "╭" + "─" * 70 + "╮", "╰" + "─" * 70 + "╯"


def state(screen: str, kind: Kind, profiles: object = None) -> State:
    return classify(screen, pane(), alive(kind), None, ctx(), profiles).verdict.state  # type: ignore[arg-type]


CODEX_IDLE = "\n".join(
    ["• I updated the README.", "", "› Explain this codebase", "", "  ? for shortcuts   100% context left"]
)
CODEX_CASES = [
    (CODEX_IDLE, State.IDLE),
    (CODEX_IDLE.replace("Explain this codebase", "add tests for x"), State.UNSUBMITTED),
    ("\n".join(["• Working (12s • esc to interrupt)", "", "› ", "", "  ? for shortcuts"]), State.WORKING),
    (
        "\n".join(
            [
                "  Would you like to run the following command?",
                "",
                "  $ rm -rf build",
                "",
                "› 1. Yes, proceed",
                "  2. No, and tell Codex what to do differently  esc",
                "",
                "  Press enter to confirm or esc to cancel",
            ]
        ),
        State.WAITING_INPUT,
    ),
    (
        "\n".join(
            [
                "■ You've hit your usage limit. Try again in 3 hours 5 minutes.",
                "",
                "› ",
                "",
                "  ? for shortcuts",
            ]
        ),
        State.RATE_LIMITED,
    ),
    (
        "\n".join(
            [
                "■ stream disconnected before completion: error sending request",
                "",
                "› ",
                "",
                "  ? for shortcuts",
            ]
        ),
        State.ERROR,
    ),
]

CODEX_CASES.append(
    ("\n".join(["■ Conversation interrupted - tell the model what to do differently", "", "› ", "", "  ?"]), State.IDLE)
)
CODEX_STREAMING = "\n".join(
    ["› say hello", "", "• tick tick", "", "› Ask Codex to do anything", "", "  ? for shortcuts"]
)
CODEX_CASES += [
    (
        "\n".join(["› and again", "", "■ We’re currently experiencing high demand, which may cause temporary errors.",
                   "", "› Ask Codex to do anything", "", "  ? for shortcuts"]),
        State.ERROR,
    ),
    ("\n".join(["■ unexpected status 401 Unauthorized: invalid key", "", "› ", "", "  ?"]), State.ERROR),
]


def test_codex_title_spinner_means_working() -> None:
    """Codex streams plain text; the braille frame in the title is the busy sign, never proof of life."""
    def verdict(title: str, facts: object = None) -> State:
        return classify(CODEX_STREAMING, pane(title), facts or alive(Kind.CODEX), None, ctx()).verdict.state  # type: ignore[arg-type]

    assert verdict("⠦ Fake task | proj") is State.WORKING
    assert verdict("Fake task | proj") is State.IDLE
    gone = ProcessFacts(kind=Kind.SHELL, agent_pid=None, shell_in_foreground=True, commands=("bash",))
    assert verdict("⠦ Fake task | proj", gone) is State.CRASHED

GEMINI_PROMPT = "\n".join(
    [
        BOX_TOP,
        "│ >   Type your message or @path/to/file" + " " * 31 + "│",
        BOX_BOTTOM,
        "~/proj (main*)     no sandbox     gemini-2.5-pro (100% context left)",
    ]
)
GEMINI_CASES = [
    ("✦ Done, the tests pass.\n\n" + GEMINI_PROMPT, State.IDLE),
    (
        GEMINI_PROMPT.replace("Type your message or @path/to/file", "refactor main.py                  "),
        State.UNSUBMITTED,
    ),
    ("⠏ Reticulating splines (esc to cancel, 12s)\n\n" + GEMINI_PROMPT, State.WORKING),
    (
        "\n".join(
            [
                BOX_TOP,
                "│ ? Shell rm -rf build" + " " * 50 + "│",
                "│ Allow execution of: 'rm'?" + " " * 44 + "│",
                "│ ● 1. Yes, allow once" + " " * 50 + "│",
                "│   2. No (esc)" + " " * 56 + "│",
                BOX_BOTTOM,
            ]
        ),
        State.WAITING_INPUT,
    ),
    (
        "✕ [API Error: Quota exceeded for quota metric 'Requests' (429)]\n\n" + GEMINI_PROMPT,
        State.RATE_LIMITED,
    ),
    ("✕ [API Error: fetch failed]\n\n" + GEMINI_PROMPT, State.ERROR),
]

AIDER_CASES = [
    (
        "Tokens: 2.5k sent, 120 received. Cost: $0.01 message, $0.02 session.\n" + "─" * 60 + "\n> ",
        State.IDLE,
    ),
    ("aider/main.py\n" + "─" * 60 + "\narchitect> fix the bug", State.UNSUBMITTED),
    ("> fix the bug\n\nI will change the parser so that", State.WORKING),
    ("Add aider/main.py to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: ", State.WAITING_INPUT),
    (
        "litellm.RateLimitError: AnthropicException - rate limit\nRetrying in 0.2 seconds...",
        State.RATE_LIMITED,
    ),
    ("Add x.py to the chat? (Y)es/(N)o [Yes]: y\nTokens: 1k sent\n" + "─" * 60 + "\n> ", State.IDLE),
    ("litellm.APIConnectionError: connection refused\n" + "─" * 60 + "\n> ", State.ERROR),
]


@pytest.mark.parametrize(("screen", "expected"), CODEX_CASES)
def test_codex(screen: str, expected: State) -> None:
    assert state(screen, Kind.CODEX) is expected


@pytest.mark.parametrize(("screen", "expected"), GEMINI_CASES)
def test_gemini(screen: str, expected: State) -> None:
    assert state(screen, Kind.GEMINI) is expected


@pytest.mark.parametrize(("screen", "expected"), AIDER_CASES)
def test_aider(screen: str, expected: State) -> None:
    assert state(screen, Kind.AIDER) is expected


def test_every_kind_has_a_profile() -> None:
    for kind in (Kind.CLAUDE, Kind.CODEX, Kind.GEMINI, Kind.AIDER, Kind.SHELL):
        profile = DEFAULT_PROFILES.get(kind)
        assert profile is not None and profile.rules
    names = [r.name for p in DEFAULT_PROFILES for r in p.rules]
    assert len(names) == len(set(names)), "rule names are unique"


def test_user_rules_are_tried_first(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rules]]\nkind = "claude"\nname = "mine.banner"\nstate = "waiting_input"\n'
        'pattern = "^Press Enter to continue"\nregion = "dialog"\n\n'
        '[placeholders]\nclaude = ["Ask me anything"]\n',
        encoding="utf-8",
    )
    profiles = load_profiles(path)
    assert state("Press Enter to continue", Kind.CLAUDE, profiles) is State.WAITING_INPUT
    assert state("Press Enter to continue", Kind.CLAUDE) is State.UNKNOWN
    prompt = "─" * 40 + "\n❯ Ask me anything\n" + "─" * 40
    assert state(prompt, Kind.CLAUDE, profiles) is State.IDLE
    assert state(prompt, Kind.CLAUDE) is State.UNSUBMITTED


def test_no_file_means_builtins() -> None:
    assert load_profiles(None) is DEFAULT_PROFILES


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rules]\n", "not valid TOML"),
        ('[[rules]]\nkind = "vim"\nname = "x"\nstate = "idle"\npattern = "x"\n', "kind = 'vim'"),
        ('[[rules]]\nkind = "claude"\nname = "x"\nstate = "crashed"\npattern = "x"\n', "state = 'crashed'"),
        ('[[rules]]\nkind = "claude"\nname = "x"\nstate = "idle"\npattern = "(x"\n', "not a valid regular"),
        ('[[rules]]\nkind = "claude"\nname = "x"\nstate = "idle"\n', "missing key 'pattern'"),
        ('[[rules]]\nkind = "claude"\nname = "x"\nstate = "idle"\npattern = "x"\nregion = "all"\n', "region"),
        (
            '[[rules]]\nkind = "claude"\nname = "x"\nstate = "idle"\npattern = "x"\ncolour = 1\n',
            "unknown key",
        ),
        ('[rule]\nkind = "claude"\n', "unknown section"),
        ("rules = 3\n", "array of tables"),
    ],
)
def test_bad_rules_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"rules\.toml") as info:
        load_profiles(path)
    assert message in str(info.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read rules file"):
        load_profiles(tmp_path / "absent.toml")
