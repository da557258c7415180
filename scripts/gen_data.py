#!/usr/bin/env python3
"""Regenerate the files derived from the code: the man page, the example config, packaging/ units.

    .venv/bin/python scripts/gen_data.py          # write them
    .venv/bin/python scripts/gen_data.py --check  # exit 1 if one is out of date (the tests do the same)

The man page comes from the CLI's own argparse parser through argparse-manpage (a dev dependency, so
users' installs need nothing more: the page is package data); the example config from the Settings model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from argparse_manpage.manpage import Manpage  # noqa: E402

from tmux_orc import __version__  # noqa: E402
from tmux_orc.cli.config_doc import render_example  # noqa: E402
from tmux_orc.cli.install import render_activation, render_unit  # noqa: E402
from tmux_orc.cli.main import build_parser  # noqa: E402

MANPAGE = REPO / "tmux_orc" / "data" / "tmux-orc.1"
EXAMPLE = REPO / "packaging" / "config.toml.example"
PACKAGED_UNIT = REPO / "packaging" / "systemd" / "tmux-orc.service"
PACKAGED_ACTIVATION = REPO / "packaging" / "dbus" / "org.tmuxorc.Monitor1.service"
PACKAGED_DAEMON = "/usr/bin/tmux-orcd"
MANPAGE_DATE = "2026-12"  # fixed: the page must not change with the day it was generated

EXTRA_SECTIONS = {
    "exit status": (
        "0 ok; 1 the daemon answered with an error (or doctor found a failure); 2 usage error; "
        "3 the daemon is not reachable; 4 the daemon answered but reaches no tmux server. "
        "tmux-orc without a command prints the help and exits 0."
    ),
    "environment": (
        "Every setting is also an environment variable TMUX_ORC_<NAME> (it wins over the config file); "
        "tmux-orc config lists them with their values and sources. "
        "DBUS_SESSION_BUS_ADDRESS names the session bus. TMUX_ORC_CLI_TIMEOUT bounds one D-Bus call (10 s)."
    ),
    "files": "\n".join(
        f".TP\n.I {path}\n{meaning}"
        for path, meaning in (
            ("$XDG_CONFIG_HOME/tmux-orc/config.toml", "settings (packaging/config.toml.example lists every key)"),
            ("$XDG_CONFIG_HOME/systemd/user/tmux-orc.service", "the user unit written by tmux-orc install"),
            ("$XDG_DATA_HOME/dbus-1/services/org.tmuxorc.Monitor1.service",
             "the D-Bus activation file written by tmux-orc install"),
            ("$XDG_STATE_HOME/tmux-orc/", "persistent state of the daemon"),
        )
    ),
    "see also": "tmux(1), systemctl(1), loginctl(1), busctl(1), journalctl(1)",
}


def render_manpage() -> str:
    """The man page (roff) of ``tmux-orc``, generated from its parser."""
    parser = build_parser()
    page = Manpage(parser, _data={
        "project_name": "tmux-orc", "version": __version__, "date": MANPAGE_DATE,
        "manual_title": "tmux-orc manual", "manual_section": 1,
        "description": "monitor AI coding agents in tmux (a D-Bus client of tmux-orcd)",
    })  # fmt: skip
    for heading, content in EXTRA_SECTIONS.items():
        page.add_section(heading, "=", content)
    return str(page)


def outputs() -> dict[Path, str]:
    """Every generated file and the content it should have."""
    return {
        MANPAGE: render_manpage(),
        EXAMPLE: render_example(),
        PACKAGED_UNIT: render_unit(PACKAGED_DAEMON),
        PACKAGED_ACTIVATION: render_activation(PACKAGED_DAEMON),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a file is out of date")
    args = parser.parse_args()
    stale = []
    for path, content in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    if args.check and stale:
        print("out of date (run scripts/gen_data.py): " + ", ".join(str(p.relative_to(REPO)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
