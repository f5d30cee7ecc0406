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

from bot.__main__ import main
from tests.conftest import corpus_file
from tests.support import UnauthorizedDiscord, query

ROOT = Path(__file__).resolve().parents[1]


def _run(
    args: list[str], cwd: Path, env_extra: dict[str, str] | None = None, script: str | None = None
):
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_PATH"}}
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

    out = capsys.readouterr().out.splitlines()
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
