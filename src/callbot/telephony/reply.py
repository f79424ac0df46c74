"""The reply language (客户回复): a customer's replies written as text, for `callbot chat`, a replies file and
the sim's `sim_replies`. One parser, one set of rules, everywhere:

- text is speech (what ASR would write); an empty reply is a silence;
- `/dtmf K` presses key K (0-9, *, #); where the robot's prompt is known to the writer of the reply
  (the sim's personas), `/dtmf first` and `/dtmf last` press the first or last key it offered ("按1…按2");
- `/barge TEXT` says TEXT over the robot's next prompt: an interruptible prompt stops and TEXT is the
  reply (TEXT may be empty: speech was heard but not recognised); a prompt that cannot be interrupted
  plays on and TEXT is heard when the robot listens;
- `/hangup` hangs up.

Anything else starting with `/` is refused with a `ReplyInvalid` naming it: a typo must not turn into a
customer saying "/dmtf 1".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callbot.telephony.gateway import Dtmf, Hangup, Heard, Silence, Speech

__all__ = ["KEYS", "Reply", "ReplyInvalid", "parse_replies", "parse_reply"]

KEYS = frozenset("0123456789*#")
_USAGE = "use /dtmf KEY, /barge TEXT or /hangup"


class ReplyInvalid(ValueError):
    """A reply that is not in the reply language."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply: what the robot hears, and whether it is said over the robot's prompt (`/barge`)."""

    heard: Heard
    barge: bool = False


def parse_reply(text: str, keys: Sequence[str] = ()) -> Reply:
    """One reply; `keys` are the keys the robot's prompt offered (for `/dtmf first|last`)."""
    reply = text.strip()
    if not reply:
        return Reply(Silence())
    if not reply.startswith("/"):
        return Reply(Speech(reply))
    command, _, argument = reply.partition(" ")
    argument = argument.strip()
    if command == "/hangup":
        if argument:
            raise ReplyInvalid(f"/hangup takes nothing, got {argument!r}")
        return Reply(Hangup())
    if command == "/dtmf":
        if argument in ("first", "last"):
            if not keys:
                raise ReplyInvalid(f"/dtmf {argument}: the prompt offered no key")
            argument = keys[0] if argument == "first" else keys[-1]
        if len(argument) != 1 or argument not in KEYS:
            raise ReplyInvalid(f"/dtmf takes one key (0-9, *, #), got {argument!r}")
        return Reply(Dtmf(argument))
    if command == "/barge":
        return Reply(Speech(argument), barge=True)
    raise ReplyInvalid(f"unknown command {command!r}: {_USAGE}")


def parse_replies(replies: Sequence[str], where: str = "reply") -> list[Reply]:
    """A list of replies; `ReplyInvalid` names the first bad one by its position (from 1) and text."""
    parsed: list[Reply] = []
    for number, text in enumerate(replies, start=1):
        try:
            parsed.append(parse_reply(text))
        except ReplyInvalid as exc:
            raise ReplyInvalid(f"{where} {number} ({text!r}): {exc}") from None
    return parsed
