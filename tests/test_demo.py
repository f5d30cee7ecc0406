"""`python -m bot demo`: the real bot on SimCord with a sample server, and its page in a browser."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.demo import demo_server, simcord_available
from bot.settings import ENV_FILE_VARIABLE
from tests.support import outside_spoiler, spoiler_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_TITLE = "The Lighthouse Lending Library"
NOVEL_TITLE = "Alice's Adventures in Wonderland"
# Screenshots of the demo, kept as test artefacts (CI uploads this folder).
ARTEFACTS = Path(os.environ.get("STORYSHELF_ARTEFACTS", ROOT / "test-artefacts"))


async def test_demo_server_holds_the_sample_and_a_novel_for_a_reader_and_a_moderator(tmp_path):
    async with demo_server(tmp_path) as demo:
        assert demo.titles == (SAMPLE_TITLE, NOVEL_TITLE)

        read = await demo.reader.slash(demo.reading_room, "read", title=SAMPLE_TITLE)
        page_one = read.response
        first = page_one.content  # the message is edited in place by the button
        assert spoiler_text(first).lstrip().startswith("In spring, the men")
        assert "General" in outside_spoiler(first)

        turned = await demo.reader.click(page_one, label="Next page ▶")
        second = turned.response.content
        assert "Page 2" in outside_spoiler(second) or "2/2" in outside_spoiler(second)
        assert spoiler_text(second).strip() not in spoiler_text(first)

        novel = await demo.reader.slash(demo.reading_room, "read", title=NOVEL_TITLE)
        assert "CHAPTER I" in outside_spoiler(novel.response.content).upper()

        # The moderator may manage the shelf; the reader may not even see /library.
        assert "library" in " ".join(demo.moderator.available_commands(demo.reading_room))
        assert "library" not in " ".join(demo.reader.available_commands(demo.reading_room))
        assert demo.env.bot.get_channel(demo.after_dark.id).is_nsfw()


# --- the page in a real headless browser --------------------------------------------


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def demo_url(tmp_path):
    """`python -m bot demo` as a person starts it; yields the address it prints."""
    if not simcord_available():
        pytest.skip("the demo extra (simcord[preview]) is not installed")
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    env.update(PYTHONPATH=str(ROOT), **{ENV_FILE_VARIABLE: os.devnull})
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    try:
        url = None
        seen = []
        while url is None:
            line = lines.get(timeout=60)
            seen.append(line)
            if line.startswith("Open http://"):
                url = line.split(" ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:"), seen  # localhost only
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0  # SIGTERM is a clean stop


def _spoilered(message_text: str, spoiler_elements: list[str], words: str) -> bool:
    """The story text is behind a spoiler: a rendered spoiler element, or (SimCord 3.2's
    preview leaves a spoiler spanning paragraphs as written) between `||` delimiters."""
    if any(words in element for element in spoiler_elements):
        return True
    start, end = message_text.find("||"), message_text.rfind("||")
    return 0 <= start < message_text.find(words) < end


def test_demo_in_a_headless_browser_reads_and_turns_the_page(demo_url):
    sync_api = pytest.importorskip("playwright.sync_api")
    browser_path = _browser()
    if browser_path is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(demo_url)
            composer = page.locator("#channel-composer-input")
            composer.click()
            composer.type("/read")
            page.get_by_role("option", name="/read").wait_for()
            page.keyboard.press("Enter")  # choose /read; the title option opens
            page.keyboard.type("Lighthouse")
            page.get_by_text(SAMPLE_TITLE, exact=True).last.wait_for()  # autocomplete
            page.keyboard.press("Enter")  # take the suggestion
            page.keyboard.press("Enter")  # send the command
            page.get_by_text("Page 1/2").wait_for()
            page.screenshot(path=ARTEFACTS / "demo-read-page-1.png")

            page.get_by_role("button", name="Next page ▶").click()
            page.get_by_text("Page 2/2").wait_for()
            page.screenshot(path=ARTEFACTS / "demo-read-page-2.png")

            message = page.locator("#channel-layout").inner_text()
            spoilers = page.locator("[class*=spoiler]").all_inner_texts()
            assert "Rating: General" in message
            assert "Then she went downstairs" in message  # page 2's text is shown...
            assert _spoilered(message, spoilers, "Then she went downstairs")  # ...spoilered
            assert "None of that was written in the letter" not in message  # page 1 replaced
        finally:
            browser.close()
