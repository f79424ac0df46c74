"""Fixed prompts are synthesised once: in memory, on disk across restarts, shared by concurrent calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callbot.speech.cache import PromptCache, has_variables
from callbot.speech.espeak import EspeakTts

INTRO = "您好，我是招商银行信用卡中心的客服"


async def test_a_fixed_prompt_is_rendered_once(tts: EspeakTts) -> None:
    cache = PromptCache(tts)
    first = await cache.render(INTRO)
    again = await cache.render(INTRO)
    assert again == first and len(first) > 8000
    assert cache.renders == 1
    await cache.render(INTRO, rate=1.2)  # another rate is another recording
    assert cache.renders == 2


async def test_concurrent_calls_share_one_rendering(tts: EspeakTts) -> None:
    cache = PromptCache(tts)
    results = await asyncio.gather(*(cache.render(INTRO) for _ in range(5)))
    assert len(set(results)) == 1
    assert cache.renders == 1


async def test_renders_survive_a_restart_on_disk(tts: EspeakTts, tmp_path: Path) -> None:
    before = PromptCache(tts, tmp_path)
    pcm = await before.render(INTRO)
    after = PromptCache(tts, tmp_path)
    assert await after.render(INTRO) == pcm
    assert after.renders == 0


async def test_warm_renders_the_fixed_texts_of_a_script_and_skips_variables(tts: EspeakTts) -> None:
    cache = PromptCache(tts)
    texts = [INTRO, "{name}您好，您的账单已出", INTRO, "感谢您的接听，再见"]
    assert await cache.warm(texts) == 2
    assert cache.renders == 2
    with pytest.raises(ValueError, match="still has variables"):
        await cache.render("{name}您好")


def test_variables_are_recognised() -> None:
    assert has_variables("分期后每月只需还{amount}元")
    assert not has_variables("请问您现在方便吗？")


async def test_memory_keeps_the_most_recent(tts: EspeakTts) -> None:
    cache = PromptCache(tts, max_items=1)
    await cache.render("第一句话")
    await cache.render("第二句话")
    await cache.render("第一句话")
    assert cache.renders == 3
