"""The `callbot` command. Subcommands live in modules of this package and are imported only when used, and
each module imports the services it needs inside its commands: `callbot --help` and `callbot task --help`
load neither the web stack nor the database layer."""

from __future__ import annotations

import importlib

import click

# command name -> ("module:attribute" inside callbot.cli, the one-line help that `callbot --help` shows).
# The help is written here so that listing the commands imports none of them (a test keeps it equal to
# each command's own).
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "server:serve",
        "Run callbot: the native API at /api/v1 (docs at /docs), the dialer and callback delivery.",
    ),
    "worker": (
        "server:worker",
        "Run the dialer and callback delivery without the API (scale out beside `callbot serve --role api`).",
    ),
    "demo": ("demo:demo", "Provision the demo tenant and its running task, print its credentials, then serve callbot."),
    "db": ("db:db", "The database schema."),
    "tenant": ("tenant:tenant", "Tenants (companies)."),
    "credential": ("tenant:credential", "API credentials."),
    "user": ("tenant:user", "Console users."),
    "line": ("line:line", "Caller lines (主叫线路)."),
    "script": ("script:script", "Robot scripts (话术)."),
    "task": ("task:task", "Tasks (外呼任务)."),
    "import": (
        "customer:import_customers",
        "Import customers from FILE (.csv in UTF-8 or GB18030, or .xlsx) into a task.",
    ),
    "chat": ("chat:chat", "Chat with the robot script SCRIPT_FILE as the customer, then show the grading."),
    "nlu": ("nlu:nlu", "Intent recognition: evaluate on labelled data, try one reply."),
    "callback": ("callback:callback", "Callbacks (回调)."),
    "sip": ("sip:sip", "SIP trunks (中继): check that a line's trunk answers."),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(super().list_commands(ctx)))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = entry[0].split(":")
        try:
            module = importlib.import_module(f"callbot.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"callbot.cli.{module_name}":
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click's own listing would import every command's module to read its help.
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx) if name in COMMANDS]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="callbot")
def main() -> None:
    """callbot: AI call robot platform (AI 外呼 / 呼入机器人)."""
