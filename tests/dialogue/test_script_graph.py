"""The script graph: jump targets name nodes, and every node can be reached from the start."""

from __future__ import annotations

from types import MappingProxyType

from callbot.dialogue.script_graph import Targets, check_graph
from callbot.dialogue.script_model import FaqEntry, Node, Settings


def listening(node_id: str, **branches: str) -> Node:
    return Node(id=node_id, say=("嗯？",), branches=MappingProxyType(branches))


def ending(node_id: str) -> Node:
    return Node(id=node_id, say=("再见。",), end="hangup")


def test_a_target_that_names_no_node_is_counted_and_named_with_the_closest_id() -> None:
    problems: list[tuple[str, str]] = []
    targets = Targets({"agree_end", "retain"}, problems)
    assert targets.check("retain", "nodes.a.branches.reject") == "retain"
    assert targets.check("agre_end", "nodes.a.branches.affirm") is None
    assert targets.unknown == 1
    assert problems == [("nodes.a.branches.affirm", "no node named 'agre_end' (did you mean 'agree_end'?)")]


def test_global_and_faq_jumps_reach_nodes_once_a_listening_node_is_reached() -> None:
    nodes = {
        "intro": listening("intro", affirm="bye"),
        "bye": ending("bye"),
        "sorry": ending("sorry"),
        "price": ending("price"),
    }
    faq = (FaqEntry(index=0, intents=("ask_price",), say=("很便宜。",), then="price"),)
    problems = check_graph("intro", nodes, {"complaint": "sorry"}, faq, Settings(), report_unreachable=True)
    assert problems == []


def test_from_a_start_that_never_listens_only_its_own_jumps_count() -> None:
    nodes = {"intro": ending("intro"), "sorry": ending("sorry")}
    problems = check_graph("intro", nodes, {"complaint": "sorry"}, (), Settings(), report_unreachable=True)
    assert problems == [("nodes.sorry", "unreachable: no path leads here from the start node 'intro'")]


def test_unreachable_nodes_wait_until_the_targets_are_fixed() -> None:
    nodes = {"intro": listening("intro", affirm="bye"), "bye": ending("bye"), "lost": ending("lost")}
    assert check_graph("intro", nodes, {}, (), Settings(), report_unreachable=False) == []


def test_a_silence_end_must_end_the_call() -> None:
    nodes = {"intro": listening("intro", affirm="bye"), "bye": ending("bye")}
    problems = check_graph("intro", nodes, {}, (), Settings(on_max_silence="intro"), report_unreachable=True)
    assert problems == [
        ("settings.on_max_silence", "node 'intro' must end the call (`end: hangup` or `end: transfer`)")
    ]
