"""tmux_orc.demo"""
