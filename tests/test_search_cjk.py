"""Chinese, Japanese and Korean stories are found by /search, English search unchanged."""

from __future__ import annotations

import pytest

from bot.cjk import grams, query_grams
from tests.support import make_story, shelve, spoiler_text


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("我们在花园里喝茶，然后一起看月亮。", "月亮"),
        ("猫は窓のそばで静かに眠っていました。", "静か"),
        ("우리는 정원에서 차를 마시고 달을 보았다.", "정원"),
    ],
)
async def test_a_two_character_word_finds_its_story(reading_world, settings, text, word):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Moon Garden", sections=[("One", text)]))
    shelve(settings, guild.id, make_story("Tea at Five"))

    result = await reader.slash(general, "search", query=word)

    content = result.response.content
    assert "Moon Garden" in content
    assert word in spoiler_text(content)
    assert "Tea at Five" not in content


async def test_english_search_is_unchanged_beside_cjk_stories(reading_world, settings):
    env, guild, general, lounge, reader = reading_world
    shelve(settings, guild.id, make_story("Moon Garden", sections=[("One", "我们喝茶。")]))
    shelve(settings, guild.id, make_story("Tea at Five"))

    result = await reader.slash(general, "search", query="kettle")

    assert "Tea at Five" in result.response.content
    assert "Moon Garden" not in result.response.content


def test_bigrams_and_queries():
    assert grams("abc 月亮很圆 def") == "月亮 亮很 很圆"
    assert grams("no cjk here") == ""
    assert query_grams("月亮很圆") == '"月亮 亮很 很圆"'
    assert query_grams("猫") == '"猫"*'
    assert query_grams("moon") is None
