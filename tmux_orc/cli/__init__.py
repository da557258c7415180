"""tmux_orc.cli"""
