"""tmux_orc.tmux"""
