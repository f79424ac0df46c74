"""Text normalisation for ASR output: punctuation, fillers, pinyin and homophone correction.

Homophone tolerance works by correcting the text before any rule runs: every lexicon word (the
built-in keywords plus a script's plain keywords) is indexed by its fuzzy pinyin, and a span of the
utterance whose fuzzy pinyin equals a lexicon word is rewritten to that word (不虚要 -> 不需要,
多少前 -> 多少钱). Only words of two or more syllables are used, because single syllables collide far
too often (在/再, 有/又).

Pinyin comes from data/pinyin.json (each character's default reading, generated from pypinyin by
``python -m callbot.dialogue.nlu.train``): importing pypinyin itself would cost ~55 MB per process for
its phrase dictionary, which single-character lookups never use.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

_DROP = re.compile(r"[^\w]+|_")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# Fillers carry no intent; removed to get the "core" of a reply. 嗯/哦 are kept apart: bare they
# are a backchannel of assent.
FILLERS = re.compile(r"那个|就是说|就是|这个这个|然后呢?|呃+|额+|啊+|哎呀|哎|唉|诶|欸|咦|哟|嘿|呀|嗯+|恩+|哦+|噢+|喔+")
_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, no punctuation or spaces."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


def fuzzy_syllable(syl: str) -> str:
    """Merge the distinctions Mandarin ASR and southern accents blur (zh/z, n/l, in/ing, en/eng)."""
    for a, b in _INITIALS:
        if syl.startswith(a):
            syl = b + syl[2:]
            break
    if syl.startswith("n") and not syl.startswith("ng"):
        syl = "l" + syl[1:]
    if syl.endswith("ing") or syl.endswith("eng"):
        syl = syl[:-1]
    return syl


@cache
def _pinyin_table() -> dict[str, str]:
    raw = resources.files("callbot.dialogue.nlu").joinpath("data/pinyin.json").read_text("utf-8")
    by_syllable: dict[str, str] = json.loads(raw)
    return {ch: syl for syl, chars in by_syllable.items() for ch in chars}


def dump_pinyin(by_syllable: dict[str, str]) -> str:
    """data/pinyin.json: syllable -> all characters read that way, one syllable a line."""
    lines = [json.dumps({syl: chars}, ensure_ascii=False)[1:-1] for syl, chars in by_syllable.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def reload_pinyin() -> None:
    """Forget the loaded table and every cached reading (after data/pinyin.json was rewritten)."""
    _pinyin_table.cache_clear()
    char_pinyin.cache_clear()
    char_key.cache_clear()


@lru_cache(maxsize=20000)
def char_pinyin(ch: str) -> str:
    """Toneless pinyin of one character (default reading); other characters map to themselves."""
    return _pinyin_table().get(ch, ch)


@lru_cache(maxsize=20000)
def char_key(ch: str) -> str:
    return fuzzy_syllable(char_pinyin(ch))


@dataclass(frozen=True)
class Correction:
    heard: str
    word: str


class HomophoneLexicon:
    """Rewrites spans whose fuzzy pinyin equals a known word of two or more characters."""

    def __init__(self, words: Iterable[str]) -> None:
        self._index: dict[tuple[str, ...], str] = {}
        for w in words:
            w = normalize(w)
            if len(w) < 2 or not all(_CJK.match(c) for c in w):
                continue
            key = tuple(char_key(c) for c in w)
            # first word wins: the lexicon is given in priority order
            self._index.setdefault(key, w)
        self._max = max((len(k) for k in self._index), default=0)

    def extended(self, words: Iterable[str]) -> HomophoneLexicon:
        new = HomophoneLexicon(())
        new._index = dict(self._index)
        other = HomophoneLexicon(words)
        for k, w in other._index.items():
            new._index.setdefault(k, w)
        new._max = max(self._max, other._max)
        return new

    def correct(self, text: str) -> tuple[str, list[Correction]]:
        if not self._index or len(text) < 2:
            return text, []
        keys = [char_key(c) for c in text]
        out: list[str] = []
        fixes: list[Correction] = []
        i, n = 0, len(text)
        while i < n:
            for size in range(min(self._max, n - i), 1, -1):
                word = self._index.get(tuple(keys[i : i + size]))
                if word is not None:
                    heard = text[i : i + size]
                    if heard != word:
                        fixes.append(Correction(heard, word))
                    out.append(word)
                    i += size
                    break
            else:
                out.append(text[i])
                i += 1
        return ("".join(out), fixes) if fixes else (text, [])


def strip_fillers(text: str) -> str:
    return FILLERS.sub("", text)
