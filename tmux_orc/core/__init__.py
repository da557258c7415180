"""tmux_orc.core"""
