from __future__ import annotations

from pathlib import Path

import pytest

from bot import create_bot
from bot.settings import Settings

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SAMPLE = CORPUS / "a_week_in_the_life.txt"


def corpus_file(name: str) -> Path:
    """A file from ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {name} not available")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        token=None,
        database_path=tmp_path / "storyshelf.db",
        shard_count=1,
    )


@pytest.fixture
def simcord_bot(settings: Settings):
    return create_bot(settings)
