"""A script as a graph of nodes: every jump names a node, and every node can be reached from the start."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from callbot.dialogue.script_model import FaqEntry, Node, Settings

Problems = list[tuple[str, str]]


def no_node(target: str, node_ids: Iterable[str]) -> str:
    """The message for a jump to a node that does not exist, with the closest id as a hint."""
    close = difflib.get_close_matches(target, list(node_ids), n=1)
    return f"no node named '{target}'" + (f" (did you mean '{close[0]}'?)" if close else "")


class Targets:
    """Checks jump targets against the script's node ids, counting the ones that name no node."""

    def __init__(self, node_ids: set[str], problems: Problems) -> None:
        self.node_ids = node_ids
        self.problems = problems
        self.unknown = 0

    def check(self, target: str, location: str) -> str | None:
        """`target` when it names a node; otherwise None, and the problem is recorded."""
        if target not in self.node_ids:
            self.problems.append((location, no_node(target, self.node_ids)))
            self.unknown += 1
            return None
        return target


def check_graph(
    start: str,
    nodes: Mapping[str, Node],
    global_: Mapping[str, str],
    faq: Sequence[FaqEntry],
    settings: Settings,
    *,
    report_unreachable: bool,
) -> Problems:
    """Nodes no path reaches from `start`, and silence ends (`on_max_silence`) that do not end the call.

    `report_unreachable` is False while some target names no node: then "unreachable" is usually
    the echo of the mistyped target, and it is reported once the targets are fixed.
    """
    problems: Problems = []
    # Jumps that work from any listening node: global intents, faq `then`, the script-wide silence end.
    anywhere = list(global_.values()) + [e.then for e in faq if e.then]
    if settings.on_max_silence:
        anywhere.append(settings.on_max_silence)
    seen = {start}
    todo = [start]
    anywhere_added = False
    while todo:
        node = nodes.get(todo.pop())
        if node is None:
            continue
        targets = [*node.branches.values(), *node.dtmf.values()]
        if node.on_max_silence:
            targets.append(node.on_max_silence)
        if node.listens and not anywhere_added:
            targets.extend(anywhere)
            anywhere_added = True
        for target in targets:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for node_id in nodes if report_unreachable else ():
        if node_id not in seen:
            problems.append((f"nodes.{node_id}", f"unreachable: no path leads here from the start node '{start}'"))
    for node_id, node in nodes.items():
        if node.on_max_silence and nodes[node.on_max_silence].listens:
            problems.append(
                (
                    f"nodes.{node_id}.on_max_silence",
                    f"node '{node.on_max_silence}' must end the call (`end: hangup` or `end: transfer`)",
                )
            )
    if settings.on_max_silence and nodes[settings.on_max_silence].listens:
        problems.append(
            (
                "settings.on_max_silence",
                f"node '{settings.on_max_silence}' must end the call (`end: hangup` or `end: transfer`)",
            )
        )
    return problems
