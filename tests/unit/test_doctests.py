"""The examples in docstrings are tests too (libtmux style): each module's doctests run here."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "tmux_orc.busnames",
    "tmux_orc.demo.screens",
    "tmux_orc.detect.prompt",
    "tmux_orc.detect.screen",
    "tmux_orc.service.variants",
    "tmux_orc.tmux.pm_delivery",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
