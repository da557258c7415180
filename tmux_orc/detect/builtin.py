"""The built-in profiles: how Claude Code (1.x and 2.x), Codex CLI, Gemini CLI and Aider show each state.

Each table is tried top to bottom; the first rule found in its region decides. The order is the policy:
rate limits, then dialogs (the agent waits for a person), then activity, then errors at the prompt,
then the prompt itself, then the pane title as a last hint. Patterns describe what the programs mean
("a spinner line with elapsed time", "a numbered menu with a cursor"), not one release's pixels.
Messages are anchored to the start of a line (after a bullet) so the same words inside the
conversation do not count. Regions are explained in :mod:`tmux_orc.detect.rules`.
"""

from __future__ import annotations

import re

from tmux_orc.detect.rules import Profile, Region, Rule, rule
from tmux_orc.detect.screen import PromptShape, ScreenShape
from tmux_orc.model import Kind, State

RATE_LIMITED, WAITING, WORKING, ERROR = State.RATE_LIMITED, State.WAITING_INPUT, State.WORKING, State.ERROR
UNSUBMITTED, IDLE, CRASHED = State.UNSUBMITTED, State.IDLE, State.CRASHED
ANY, PROMPT_SHOWN, NO_PROMPT = None, True, False  # requires_input

Row = tuple[str, State, Region, str, bool | None]


def table(*rows: Row) -> tuple[Rule, ...]:
    return tuple(rule(name, state, pattern, region, needs) for name, state, region, pattern, needs in rows)


TYPED, EMPTY, ANY_LINE = r"\S", r"^$", r"."
TITLE_SPINNER = r"^[\u2800-\u28ff]"  # a braille spinner frame in front of the pane title
# A status line saying a failed request is being retried: "<glyph> <what failed> · retrying in 3s · attempt 3/10".
# Blocked on the API, not working: error (rate_limited when what failed is a rate limit). See engine._detail.
RETRYING = r"^[^\w\s]\s+(?P<what>\S.*?)\s+[·•]\s+retrying in\b.*\battempt \d+\s*/\s*\d+"
RETRY_LIMIT = r"^[^\w\s]\s+(?i:[^·•]*(?:\b429\b|rate.?limit|too many requests))[^·•]*[·•]\s+retrying in\b"
# Claude Code 2.0 puts the failure and the retry on lines of their own ("⎿ 529 {...}" / "Retrying in 4
# seconds… (attempt 4/10)") right above its spinner. A rule reads two neighbouring lines as one, so this
# matches only that retry line glued to the spinner line under it: not a tool's output quoting it.
RETRY_LATER = (
    r"^Retrying in \d+ seconds?(?:…|\.\.\.)\s*\(attempt \d+\s*/\s*\d+\)\s+[^\w\s]\s+\S[^()]{0,80}?(?:…|\.\.\.)"
)

# --- Claude Code -------------------------------------------------------------------------------------
LEAD = r"^[●⏺⎿✗✘×⚠\s]*"  # bullets Claude Code puts before transcript entries and tool results
C_LIMIT = LEAD + (
    r"(?i:(?:claude (?:ai )?)?(?:[\w-]+ ){0,2}limit reached\b"  # "Claude usage limit reached", "5-hour limit reached"
    r"|you(?:'ve| have) (?:hit|reached) your (?:[\w-]+ )?limit)"
)
C_429 = LEAD + r"(?i:api error\b.*(?:\b429\b|rate_limit_error|rate limit))"
C_PERMISSION = r"(?i)^do you want to (?:proceed|make this edit|create|allow|run|overwrite|delete|apply)\b"
C_TRUST = r"(?i)quick safety check|do you trust the files|\btrust this folder\b"
C_DIALOG_KEYS = r"(?i)\besc to (?:cancel|exit)\b|\benter to (?:confirm|select)\b"
C_SPINNER = r"^[^\w\s]\s+\S.{0,80}?(?:…|\.\.\.)\s*\([^)]*(?:\b\d+[smh]\b|\btokens?\b|\besc to interrupt\b)"
C_INTERRUPT = r"(?i)\besc to interrupt\b"
C_API_ERROR = LEAD + r"(?:API Error\b|(?i:overloaded_error|api_error\b))"
C_NETWORK = (
    LEAD
    + r"(?i:unable to connect to (?:anthropic services|api)\b|connection error\b|request timed out\b|fetch failed\b)"
)

# fmt: off
CLAUDE = Profile(
    kind=Kind.CLAUDE,
    description="Claude Code: 1.x boxed '│ > ' prompt, 2.x '❯ ' prompt between rules",
    shape=ScreenShape(
        prompts=(PromptShape("claude.box", re.compile(r"^[>❯!#]\s?(?P<text>.*)$")),),
        # "Resend your message to try again" fills the empty prompt after a failed request.
        placeholders=(re.compile(r'Try ".*"(?: \(.*\))?'), re.compile(r"Resend your message to try again")),
        entry=re.compile(r"^(?:[●⏺]\s|[>❯] \S)"),
        cursors="❯›>",
        plain_menus=True,  # the first-run theme picker: "❯ ✔ Auto (match terminal)" over unnumbered options
    ),
    rules=table(
        ("claude.usage-limit",   RATE_LIMITED, "live",   C_LIMIT,        ANY),
        ("claude.api-429",       RATE_LIMITED, "live",   C_429,          ANY),
        ("claude.retry-429",     RATE_LIMITED, "tail",   RETRY_LIMIT,    ANY),
        ("claude.permission",    WAITING,      "dialog", C_PERMISSION,   ANY),
        ("claude.trust",         WAITING,      "dialog", C_TRUST,        ANY),
        ("claude.choice",        WAITING,      "menu",   ANY_LINE,       ANY),
        ("claude.dialog-keys",   WAITING,      "dialog", C_DIALOG_KEYS,  ANY),
        ("claude.api-retrying",  ERROR,        "tail",   RETRYING,       ANY),
        ("claude20.api-retrying", ERROR,       "tail",   RETRY_LATER,    ANY),
        ("claude.spinner",       WORKING,      "tail",   C_SPINNER,      ANY),
        ("claude2.footer-busy",  WORKING,      "footer", C_INTERRUPT,    ANY),
        ("claude.api-error",     ERROR,        "tail",   C_API_ERROR,    PROMPT_SHOWN),
        ("claude.network-error", ERROR,        "tail",   C_NETWORK,      PROMPT_SHOWN),
        ("claude.typed",         UNSUBMITTED,  "input",  TYPED,          ANY),
        ("claude.prompt",        IDLE,         "input",  EMPTY,          ANY),
        ("claude2.title-busy",   WORKING,      "title",  TITLE_SPINNER,  ANY),
        ("claude2.title-idle",   IDLE,         "title",  r"^✳",          ANY),
    ),
)
# fmt: on

# --- Codex CLI ---------------------------------------------------------------------------------------
X_LIMIT = (
    r"(?i)^[■•⚠\s]*(?:you(?:'ve| have) hit your usage limit|.*\b429 too many requests\b"
    r"|.*\brate limit (?:reached|exceeded)\b)"
)
X_APPROVAL = (
    r"(?i)would you like to (?:run|make|apply|allow)|^allow command\?|^apply (?:patch|changes)\?"
    r"|do you trust the contents|allow codex to work in this folder|press enter to confirm"
)
X_BUSY = r"(?i)\([^)]*\besc to interrupt\b[^)]*\)"
X_ERROR = (
    r"(?i)^[■•⚠\s]*(?:stream error|stream disconnected|unexpected status \d{3}|error sending request"
    r"|exceeded retry limit|request failed|connection (?:error|refused|reset)|error: )"
)
# "■" starts Codex's error events; any but the one an interrupt leaves that speaks of a failure.
X_ERROR_EVENT = (
    r"(?i)^■\s+(?!conversation interrupted\b).*(?:\berrors?\b|\bfail(?:ed|ure)?\b|high demand|overloaded"
    r"|unavailable|timed out|\btimeout\b|disconnected|\bstatus\b)"
)
X_PLACEHOLDERS = (
    "Ask Codex to do anything",
    "Explain this codebase",
    "Summarize recent commits",
    "Implement {feature}",
    "Find and fix a bug in @filename",
    "Write tests for @filename",
    "Improve documentation in @filename",
    "Run /review on my current changes",
    "Use /skills to list available skills",
)

# fmt: off
CODEX = Profile(
    kind=Kind.CODEX,
    description="Codex CLI: composer line '› ' (older '▌'), '• Working (5s • esc to interrupt)'",
    shape=ScreenShape(
        prompts=(PromptShape("codex.composer", re.compile(r"^[›▌]\s?(?P<text>.*)$"), boxed=False),),
        placeholders=tuple(re.compile(re.escape(text)) for text in X_PLACEHOLDERS),
        entry=re.compile(r"^(?:[•■]\s|[›▌] \S|user$|codex$)"),
        cursors="›❯>▶",
    ),
    rules=table(
        ("codex.usage-limit", RATE_LIMITED, "live",   X_LIMIT,    ANY),
        ("codex.approval",    WAITING,      "dialog", X_APPROVAL, ANY),
        ("codex.choice",      WAITING,      "menu",   ANY_LINE,   ANY),
        ("codex.busy",        WORKING,      "live",   X_BUSY,     ANY),
        ("codex.error",       ERROR,        "tail",   X_ERROR,    PROMPT_SHOWN),
        ("codex.error-event", ERROR,        "tail",   X_ERROR_EVENT, PROMPT_SHOWN),
        # Codex shows a streaming reply as plain text: the title's spinner is the busy sign. The
        # process facts are read first, so a title left behind by a dead program proves nothing.
        ("codex.title-busy",  WORKING,      "title",  TITLE_SPINNER, ANY),
        ("codex.typed",       UNSUBMITTED,  "input",  TYPED,      ANY),
        ("codex.prompt",      IDLE,         "input",  EMPTY,      ANY),
    ),
)
# fmt: on

# --- Gemini CLI --------------------------------------------------------------------------------------
G_QUOTA = (
    r"(?i)^[✕×\s]*(?:\[?api error:?.*(?:\b429\b|quota|resource_exhausted|rate limit)"
    r"|quota exceeded|you have exhausted your (?:daily )?quota|usage limit reached)"
)
G_CONFIRM = r"(?i)allow execution\b|apply this change\?|\ballow once\b|waiting for user confirmation"
G_DIALOG = r"(?i)^do you (?:want to proceed|trust this folder)"
G_BUSY = r"(?i)\(esc to cancel,\s*[\dhms ]+\)"
G_ERROR = r"(?i)^[✕×]\s*\[?api error\b"
G_PLACEHOLDER = r"Type your message(?: or @path/to/file)?"
# A transcript entry starts with its glyph (reply, error, info) or the echoed prompt; "ℹ This request
# failed. Press F12…" is the footnote of the error entry above it, not an entry of its own.
G_ENTRY = r"^(?:[✦✕]\s|ℹ\s(?!This request failed\b)|> \S)"

# fmt: off
GEMINI = Profile(
    kind=Kind.GEMINI,
    description="Gemini CLI: boxed '│ > ' input (0.61: a bare ' > ' line under a rule), spinner '(esc to cancel, 12s)'",
    shape=ScreenShape(
        prompts=(
            PromptShape("gemini.box", re.compile(r"^[>*!]\s?(?P<text>.*)$")),
            # 0.61 draws no box: a rule, a mode hint, the ' > ' line, a blank line, then a two-line
            # footer (workspace / sandbox / model).
            PromptShape("gemini.line", re.compile(r"^[>*!]\s(?P<text>.*)$"), boxed=False, max_below=4),
        ),
        placeholders=(re.compile(G_PLACEHOLDER),),
        entry=re.compile(G_ENTRY),
        cursors="●❯›>",
    ),
    rules=table(
        ("gemini.quota",     RATE_LIMITED, "live",   G_QUOTA,   ANY),
        ("gemini.confirm",   WAITING,      "live",   G_CONFIRM, ANY),
        ("gemini.dialog",    WAITING,      "dialog", G_DIALOG,  ANY),
        ("gemini.choice",    WAITING,      "menu",   ANY_LINE,  ANY),
        ("gemini.busy",      WORKING,      "live",   G_BUSY,    ANY),
        ("gemini.api-error", ERROR,        "tail",   G_ERROR,   PROMPT_SHOWN),
        ("gemini.typed",     UNSUBMITTED,  "input",  TYPED,     ANY),
        ("gemini.prompt",    IDLE,         "input",  EMPTY,     ANY),
    ),
)
# fmt: on

# --- Aider -------------------------------------------------------------------------------------------
# Aider prints litellm's exception as "litellm.<Name>Error: ..."; a frame of the spinner it replaces may be
# left in front of it ("░litellm.RateLimitError: ...").
A_LIMIT = r"^\W{0,3}(?:litellm\.)?RateLimitError\b|\brate limit exceeded\b"
A_CONFIRM = r"\(Y\)es/\(N\)o"
A_BUSY = r"(?i)^\W{0,3}(?:waiting for\b|thinking\b|updating repo map|scanning repo)"
A_ERROR = (
    r"^\W{0,3}litellm\.\w+Error\b"
    r"|^(?:APIConnectionError|InternalServerError|ServiceUnavailableError|APIError|BadRequestError)\b"
)
# A failed request is retried after "Retrying in 0.2 seconds...": blocked on the API while that line is the
# last one, or is followed by the spinner of the next attempt or by the next failure. Followed by any other
# text (read as a pair of lines), a retry got through and the reply streams.
A_RETRYING = r"^Retrying in [\d.]+ seconds\b"
A_RECOVERED = r"^Retrying in [\d.]+ seconds\.{0,3} (?!\W*(?i:waiting for\b|litellm\.|\w+Error\b))\S"
# A finished exchange ends with its token report: a new entry, so errors retried before it are history.
A_ENTRY = r"^(?:\w+)?> \S|^Tokens: [\d.,]+k? sent\b"

# fmt: off
AIDER = Profile(
    kind=Kind.AIDER,
    description="Aider: '> ' (or 'architect> ') prompt as the last line; (Y)es/(N)o questions",
    shape=ScreenShape(
        prompts=(PromptShape("aider.prompt", re.compile(r"^(?:\w+)?>\s?(?P<text>.*)$"), boxed=False, max_below=0),),
        entry=re.compile(A_ENTRY),
        cursors="",
    ),
    rules=table(
        ("aider.confirm",    WAITING,      "live",  A_CONFIRM,   NO_PROMPT),
        ("aider.recovered",  WORKING,      "live",  A_RECOVERED, NO_PROMPT),
        ("aider.rate-limit", RATE_LIMITED, "live",  A_LIMIT,     ANY),
        ("aider.retrying",   ERROR,        "live",  A_RETRYING,  NO_PROMPT),
        ("aider.busy",       WORKING,      "live",  A_BUSY,      ANY),
        ("aider.error",      ERROR,        "tail",  A_ERROR,     PROMPT_SHOWN),
        ("aider.typed",      UNSUBMITTED,  "input", TYPED,       ANY),
        ("aider.prompt",     IDLE,         "input", EMPTY,       ANY),
        ("aider.streaming",  WORKING,      "tail",  TYPED,       NO_PROMPT),  # output streams, no prompt
    ),
)

SHELL = Profile(
    kind=Kind.SHELL,
    description="A shell where an agent should be: these rules only word why it crashed",
    shape=ScreenShape(),
    rules=table(
        ("shell.not-found", CRASHED, "live", r"command not found|No such file or directory",             ANY),
        ("shell.killed",    CRASHED, "live", r"^Killed\b|Segmentation fault|core dumped|^Aborted\b",     ANY),
        ("shell.prompt",    CRASHED, "live", r"[$#%❯>]$",                                                ANY),
    ),
)
# fmt: on

BUILTIN: tuple[Profile, ...] = (CLAUDE, CODEX, GEMINI, AIDER, SHELL)
