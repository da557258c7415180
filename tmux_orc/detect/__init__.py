"""tmux_orc.detect"""
