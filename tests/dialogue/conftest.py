"""Shared fixtures for the dialogue tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callbot.dialogue.script import Script, load_script


@pytest.fixture
def make_script() -> Callable[[str], Script]:
    return lambda text: load_script(text, source="test.yaml")
