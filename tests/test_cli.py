"""The command line: running without a token, a rejected token, import and inspect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.settings import ENV_FILE_VARIABLE
from tests.conftest import corpus_file
from tests.support import UnauthorizedDiscord, query

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_STORY = ROOT / "data" / "sample_story.txt"


@pytest.fixture(autouse=True)
def _no_project_env(tmp_path, monkeypatch):
    """The developer's own `.env` (found from the package, wherever the tests run) must
    not leak into these tests."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(empty))
    for name in ("DISCORD_TOKEN", "DATABASE_PATH", "DATABASE_URL", "DEV_GUILD_ID"):
        monkeypatch.delenv(name, raising=False)


def _run(
    args: list[str], cwd: Path, env_extra: dict[str, str] | None = None, script: str | None = None
):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISCORD_TOKEN", "DATABASE_PATH", "DATABASE_URL"}
    }
    env.update(env_extra or {})
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_without_token_one_line_and_exit_2(tmp_path):
    result = _run([], tmp_path)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN is not set" in lines[0] and ".env" in lines[0]
    assert "Traceback" not in result.stderr


def test_rejected_token_one_clear_line_and_token_not_printed(tmp_path):
    # A stand-in for Discord on loopback that refuses every token.
    server = ThreadingHTTPServer(("127.0.0.1", 0), UnauthorizedDiscord)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = "not-a-real-token.abc.def"
    script = textwrap.dedent(
        f"""
        import sys, discord.http
        discord.http.Route.BASE = "http://127.0.0.1:{server.server_port}/api/v10"
        from bot.__main__ import main
        sys.exit(main([]))
        """
    )
    try:
        result = _run([], tmp_path, {"DISCORD_TOKEN": token}, script=script)
    finally:
        server.shutdown()

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("storyshelf: Discord rejected DISCORD_TOKEN")
    )
    assert token not in result.stderr + result.stdout


def test_import_stores_each_file_and_reports_a_line_per_file(tmp_path, capsys):
    sample = corpus_file("a_week_in_the_life.txt")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    db = tmp_path / "shelf.db"

    status = main(["import", str(sample), str(empty), "--guild", "42", "--db", str(db)])

    printed = capsys.readouterr().out.splitlines()
    out = [line for line in printed if line.startswith(("✓", "✗"))]
    # The parser's notes follow their file's line, as `inspect` shows them.
    assert any(line.startswith("  warning: ") for line in printed)
    assert status == 1  # one file failed
    assert out[0].startswith(
        "✓ a_week_in_the_life.txt: “A Week in the Life” · Mature (R (language))"
    )
    assert "7 sections" in out[0]
    assert out[1].startswith("✗ empty.txt:") and "empty" in out[1].lower()

    again = main(["import", str(sample), "--guild", "42", "--db", str(db)])
    assert again == 1
    assert "already on this server's shelf" in capsys.readouterr().out

    from bot.settings import Settings

    settings = Settings(database_path=db)
    assert query(settings, "SELECT guild_id, title, section_count FROM stories") == [
        (42, "A Week in the Life", 7)
    ]


def test_inspect_json(capsys):
    sample = corpus_file("a_week_in_the_life.txt")

    assert main(["inspect", str(sample), "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert data["title"] == "A Week in the Life"
    assert data["rating"] == {"label": "R (language)", "level": "mature"}
    assert {"pairing", "summary", "disclaimer", "notes"} <= data["metadata"].keys()
    assert len(data["sections"]) == 7
    assert data["sections"][0]["text"].startswith("On Monday, there was a single kiss.")
    assert all({"title", "words", "text"} <= s.keys() for s in data["sections"])
    assert isinstance(data["warnings"], list)


def test_inspect_bad_file_is_one_clear_error(tmp_path, capsys):
    path = tmp_path / "blob.txt"
    path.write_bytes(bytes(range(256)) * 20)

    assert main(["inspect", str(path)]) == 1
    err = capsys.readouterr().err
    assert "binary" in err.lower()


def test_import_refuses_file_over_limit_before_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "100")
    path = tmp_path / "big.txt"
    path.write_text("Title: Big\n\n" + "word " * 100)

    assert main(["import", str(path), "--guild", "1", "--db", str(tmp_path / "s.db")]) == 1
    assert "limit" in capsys.readouterr().out


def test_sample_story_from_the_readme_imports_as_four_titled_scenes(tmp_path, capsys):
    db = tmp_path / "shelf.db"

    assert main(["import", str(SAMPLE_STORY), "--guild", "7", "--db", str(db)]) == 0

    out = capsys.readouterr().out
    assert out.startswith("✓ sample_story.txt: “The Lighthouse Lending Library” · General")
    assert "4 sections" in out
    from bot.settings import Settings

    titles = query(Settings(database_path=db), "SELECT title FROM sections ORDER BY position")
    assert next(t for (t,) in titles).startswith("In spring, the men from the harbour")


def _unrated(tmp_path: Path) -> Path:
    path = tmp_path / "unrated.txt"
    path.write_text(
        "Title: Weather Report\n\nAuthor: Tester\n\n"
        "It rained on Monday. The gutters sang.\n\n\n"
        "It rained on Tuesday too, and nobody minded.\n",
        encoding="utf-8",
    )
    return path


def test_import_without_rating_warns_like_inspect(tmp_path, capsys):
    path = _unrated(tmp_path)

    assert main(["inspect", str(path)]) == 0
    inspected = capsys.readouterr().out
    assert main(["import", str(path), "--guild", "1", "--db", str(tmp_path / "s.db")]) == 0
    imported = capsys.readouterr().out

    hint = "no rating in the file: stored as Not Rated, which is shown only in age-restricted"
    assert hint in inspected and hint in imported
    assert "use --rating" in imported
    assert "Not Rated" in imported.splitlines()[0]


@pytest.mark.parametrize(
    ("given", "level", "display"),
    [("Teen", "teen", "Teen"), ("pg-13", "teen", "Teen"), ("General", "general", "General")],
)
def test_import_rating_overrides_the_file(tmp_path, capsys, given, level, display):
    db = tmp_path / "s.db"

    status = main(
        ["import", str(_unrated(tmp_path)), "--guild", "1", "--db", str(db), "--rating", given]
    )

    out = capsys.readouterr().out
    assert status == 0
    assert f"· {display} ({given})" in out.splitlines()[0]
    assert "rating" not in out.lower().split("\n", 1)[1]  # no stale "no rating" warning
    from bot.settings import Settings

    assert query(Settings(database_path=db), "SELECT rating_level FROM stories") == [(level,)]


def test_import_unknown_rating_is_refused_and_nothing_stored(tmp_path, capsys):
    db = tmp_path / "s.db"

    status = main(
        ["import", str(_unrated(tmp_path)), "--guild", "1", "--db", str(db), "--rating", "Sparkly"]
    )

    assert status == 2
    err = capsys.readouterr().err
    assert "“Sparkly” is not a rating I know" in err and "General, Teen, Mature" in err
    assert not db.exists()


def test_import_names_a_rating_it_does_not_know(tmp_path, capsys):
    path = tmp_path / "odd.txt"
    path.write_text(
        "Title: Odd\n\nRating: Sparkly\n\nOne scene.\n\n\nAnother scene.\n", encoding="utf-8"
    )

    assert main(["import", str(path), "--guild", "1", "--db", str(tmp_path / "s.db")]) == 0

    out = capsys.readouterr().out
    assert "rating “Sparkly” not recognised: stored as Not Rated" in out
    warnings = [line for line in out.splitlines() if line.startswith("  warning:")]
    assert len([w for w in warnings if "rat" in w.lower()]) == 1  # one note, not the parser's too


def test_import_goes_to_the_server_when_database_url_is_set(
    tmp_path, capsys, monkeypatch, settings
):
    """With DATABASE_URL the shelf is in PostgreSQL: `import` stores there (PostgreSQL
    pass); the SQLite file at DATABASE_PATH is not made."""
    if not settings.database_url:
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "unused.db"))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")

    status = main(["import", str(SAMPLE_STORY), str(empty), "--guild", "7"])

    out = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("✓", "✗"))]
    assert status == 1  # the empty file failed, alone
    assert out[0].startswith("✓ sample_story.txt:") and out[1].startswith("✗ empty.txt:")
    assert query(settings, "SELECT guild_id, section_count FROM stories") == [(7, 4)]
    assert not (tmp_path / "unused.db").exists()
    assert main(["import", str(SAMPLE_STORY), "--guild", "7"]) == 1
    assert "already on this server's shelf" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_backup_and_restore_say_what_to_use_on_the_server(tmp_path, capsys, monkeypatch, command):
    monkeypatch.setenv("DATABASE_URL", "postgresql://storyshelf:secret@db.example/shelf")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "shelf.db"))

    assert main([command, str(tmp_path / "copy.db")]) == 2

    err = capsys.readouterr().err
    assert "pg_dump" in err and "secret" not in err
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "shelf.db").exists()
