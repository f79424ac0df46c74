"""`callbot --help` and the provisioning commands' help answer at once: they import neither the web stack
nor the database layer (that import cost seconds of CPU before any command did anything)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest

from callbot.callback.service import DIALECTS
from callbot.cli import COMMANDS
from callbot.cli import callback as cli_callback
from callbot.cli import line as cli_line
from callbot.cli import task as cli_task
from callbot.cli import tenant as cli_tenant
from callbot.models.enums import CredentialKind, LineType, Role
from callbot.task.states import TaskAction

HEAVY = ("sqlalchemy", "fastapi", "starlette", "uvicorn", "numpy", "pydantic", "alembic", "phonenumbers", "yaml")

# Runs the command as `callbot ARGS` would, then reports which modules it had loaded.
PROBE = """
import json, sys
from callbot.cli import main
try:
    main(sys.argv[1:], prog_name="callbot")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[str, set[str]]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, check=False
    )  # fmt: skip
    modules = json.loads(run.stderr.strip().splitlines()[-1])
    return run.stdout, {name.split(".")[0] for name in modules} | set(modules)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["task", "--help"],
        ["task", "create", "--help"],
        ["tenant", "--help"],
        ["credential", "create", "--help"],
        ["line", "add", "--help"],
        ["script", "--help"],
        ["callback", "set", "--help"],
        ["db", "--help"],
    ],
)
def test_help_loads_no_web_stack_and_no_database_layer(args: list[str]) -> None:
    shown, modules = loaded_by(*args)
    assert "Usage: callbot" in shown
    assert sorted(set(HEAVY) & modules) == []


def test_the_command_list_imports_no_command() -> None:
    shown, modules = loaded_by("--help")
    for name in COMMANDS:
        assert f"  {name} " in shown
    assert sorted(m for m in modules if m.startswith("callbot.cli.")) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_list_shows_each_commands_own_help(name: str) -> None:
    module_name, attr = COMMANDS[name][0].split(":")
    command = getattr(importlib.import_module(f"callbot.cli.{module_name}"), attr)
    assert isinstance(command, click.Command)
    assert COMMANDS[name][1] == command.get_short_help_str(limit=1000)


def test_the_choices_written_out_for_the_cli_are_the_products() -> None:
    assert tuple(Role) == cli_tenant.ROLES
    assert tuple(CredentialKind) == cli_tenant.CREDENTIAL_KINDS
    assert tuple(LineType) == cli_line.LINE_TYPES
    assert tuple(TaskAction) == cli_task.ACTIONS
    assert cli_callback.DIALECTS == DIALECTS
