"""tmux-orc: a monitor for teams of AI coding agents running in tmux."""

__version__ = "0.1.0"
