"""tmux_orc.service"""
