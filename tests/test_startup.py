from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
import discord
import pytest

from bot.__main__ import main
from bot.db.connection import latest_version
from bot.settings import ENV_FILE_VARIABLE, PROJECT_ROOT, Settings, find_project_root
from tests.support import query, restart


def _command_syncs(env) -> list:
    return [
        entry for entry in env.http_requests if entry.method == "PUT" and "/commands" in entry.path
    ]


async def test_help_answers_through_the_real_bot(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    reader = guild.add_member(simcord_env.create_user("reader"))

    result = await reader.slash(channel, "help")

    assert result.ephemeral
    embed = result.response.embeds[0]
    assert embed.title == "Storyshelf"
    text = " ".join(field.value for field in embed.fields)
    assert "/read" in text and "/library add" in text


async def test_second_start_on_same_database_does_not_sync_again(simcord_env, settings):
    assert len(_command_syncs(simcord_env)) == 1

    await restart(simcord_env, settings)

    assert len(_command_syncs(simcord_env)) == 1
    assert simcord_env.bot.synced_commands is False
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    reader = guild.add_member(simcord_env.create_user("reader"))
    result = await reader.slash(channel, "help")
    assert result.response.embeds[0].title == "Storyshelf"
    if settings.database_url:
        assert query(settings, "SELECT version FROM storyshelf_schema") == [(latest_version(),)]
    else:
        with sqlite3.connect(settings.database_path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()


# --- from the README to a running bot: configuration and start-up failures ----------

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> Path:
    """No developer `.env` or Discord settings leak in; returns an empty `.env` to point at."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(empty))
    for name in ("DISCORD_TOKEN", "DATABASE_PATH", "DATABASE_URL", "DEV_GUILD_ID", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    # run_bot configures logging for real; a handler left on a closed capture would break
    # later tests.
    monkeypatch.setattr(discord.utils, "setup_logging", lambda **kwargs: None)
    return empty


def _run(args: list[str], cwd: Path, env: dict[str, str], script: str | None = None):
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISCORD_TOKEN", "DATABASE_PATH", "DEV_GUILD_ID", ENV_FILE_VARIABLE}
    }
    full.update(env)
    command = [sys.executable, "-c", script] if script else [sys.executable, "-m", "bot", *args]
    return subprocess.run(command, cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("storyshelf:")]


def test_no_network_is_one_line_and_the_resolved_database_is_logged(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    empty = tmp_path / "empty.env"
    empty.write_text("")
    script = textwrap.dedent(
        f"""
        import sys, discord.http
        # A stand-in for Discord that refuses every connection.
        discord.http.Route.BASE = "http://127.0.0.1:{_closed_port()}/api/v10"
        from bot.__main__ import main
        sys.exit(main([]))
        """
    )
    env = {
        "PYTHONPATH": str(ROOT),
        "HOME": str(home),
        ENV_FILE_VARIABLE: str(empty),
        "DISCORD_TOKEN": "not.a.token",
        "DATABASE_PATH": "~/shelves/storyshelf.db",
        "LOG_LEVEL": "INFO",
    }

    result = _run([], tmp_path, env, script=script)

    assert result.returncode == 75, result.stderr
    assert "Traceback" not in result.stderr
    failures = _failure_lines(result.stderr)
    assert len(failures) == 1 and "cannot reach Discord" in failures[0], result.stderr
    assert "check the network" in failures[0]
    # `~` expanded to the home folder, and the path shown in the start-up line.
    assert f"database {home / 'shelves' / 'storyshelf.db'}" in result.stderr
    assert (home / "shelves" / "storyshelf.db").is_file()
    assert not (tmp_path / "~").exists()
    assert "voice will NOT be supported" not in result.stderr
    assert "not.a.token" not in result.stderr + result.stdout


def _connector_error(cls: type[aiohttp.ClientConnectorError], os_error: OSError):
    fields = aiohttp.client_reqrep.ConnectionKey._fields
    values = {
        "host": "discord.com",
        "port": 443,
        "is_ssl": True,
        "ssl": True,
    }
    key = aiohttp.client_reqrep.ConnectionKey(**{f: values.get(f) for f in fields})
    return cls(key, os_error)


@pytest.mark.parametrize(
    ("error", "status", "words"),
    [
        (
            lambda: _connector_error(
                aiohttp.ClientConnectorDNSError,
                socket.gaierror(-3, "Temporary failure in name resolution"),
            ),
            75,
            "cannot reach Discord at discord.com:443 (Temporary failure in name resolution)",
        ),
        (lambda: discord.LoginFailure("Improper token has been passed."), 2, "rejected"),
        (
            lambda: discord.PrivilegedIntentsRequired(shard_id=None),
            2,
            "needs no privileged intents",
        ),
        (lambda: TimeoutError(), 75, "lost the connection to Discord"),
    ],
    ids=["dns", "bad-token", "privileged-intents", "timeout"],
)
def test_each_login_failure_is_one_line_and_nonzero(
    clean_env, tmp_path, monkeypatch, capsys, error, status, words
):
    async def fail(self, token):
        raise error()

    # The first request of the real login; what it raises is what the bot has to explain.
    monkeypatch.setattr(discord.http.HTTPClient, "static_login", fail)
    monkeypatch.setenv("DISCORD_TOKEN", "secret.token.value")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "shelf.db"))

    assert main([]) == status

    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(_failure_lines(err)) == 1 and words in err, err
    assert "secret.token.value" not in err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Not PostgreSQL: refused before anything is tried.
        ("mysql://storyshelf:pw@db.example/shelf", "must start with postgresql://"),
        # PostgreSQL nobody answers for (port 1 on this machine): said in one line.
        ("postgresql://storyshelf:pw@127.0.0.1:1/shelf", "cannot use the PostgreSQL database"),
    ],
)
def test_a_database_url_that_cannot_serve_stops_start_up_in_one_line(
    clean_env, tmp_path, monkeypatch, capsys, url, expected
):
    monkeypatch.setenv("DISCORD_TOKEN", "secret.token.value")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "shelf.db"))
    monkeypatch.setenv("DATABASE_URL", url)

    async def never(self, token):
        raise AssertionError("logged in although the database cannot be used")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", never)
    assert main([]) == 2

    err = capsys.readouterr().err
    assert len(_failure_lines(err)) == 1 and "Traceback" not in err
    assert expected in err
    assert "pw@" not in err and ":pw" not in err  # the password is never repeated
    assert not (tmp_path / "shelf.db").exists()  # no SQLite shelf was made instead


def _unwritable_folder(tmp_path: Path, kind: str) -> Path:
    if kind == "read-only folder":
        if os.geteuid() == 0:
            pytest.skip("root writes through folder permissions")
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    if kind == "system folder":
        folder = Path("/sys/storyshelf-test")
        if not Path("/sys").is_dir() or (os.access("/sys", os.W_OK) and os.geteuid() != 0):
            pytest.skip("no read-only /sys here")
        return folder
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return blocker


@pytest.mark.parametrize("kind", ["read-only folder", "system folder", "a file in the way"])
def test_unwritable_database_folder_is_named(clean_env, tmp_path, monkeypatch, capsys, kind):
    folder = _unwritable_folder(tmp_path, kind)
    monkeypatch.setenv("DISCORD_TOKEN", "secret.token.value")
    monkeypatch.setenv("DATABASE_PATH", str(folder / "shelf.db"))

    async def never(self, token):
        raise AssertionError("logged in despite an unusable database folder")

    monkeypatch.setattr(discord.http.HTTPClient, "static_login", never)
    try:
        assert main([]) == 2
    finally:
        if kind == "read-only folder":
            folder.chmod(0o700)

    err = capsys.readouterr().err
    assert len(_failure_lines(err)) == 1 and "Traceback" not in err
    assert str(folder) in err
    assert "not writable" in err or "cannot create" in err


def test_project_env_is_found_from_another_folder(tmp_path):
    # A copy of the project, so its `.env` can be written without touching the real one.
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("bot", "cogs"):
        shutil.copytree(ROOT / name, project / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", project)
    (project / ".env").write_text("DATABASE_PATH=shelves/main.db\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("DATABASE_PATH=wrong.db\n")  # not the project's: ignored

    result = _run(
        ["import", str(ROOT / "data" / "sample_story.txt"), "--guild", "5"],
        elsewhere,
        {"PYTHONPATH": str(project)},
    )

    assert result.returncode == 0, result.stderr
    shelf = project / "shelves" / "main.db"
    with sqlite3.connect(shelf) as conn:
        assert conn.execute("SELECT guild_id, title FROM stories").fetchall() == [
            (5, "The Lighthouse Lending Library")
        ]
    assert not (elsewhere / "wrong.db").exists() and not (elsewhere / "shelves").exists()


def test_environment_wins_over_project_env_and_relative_paths_are_from_the_project(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("LOG_LEVEL=debug\nDATABASE_PATH=data/shelf.db\nDEV_GUILD_ID=9\n")

    from_file = Settings.from_env({}, root=project)
    overridden = Settings.from_env({"LOG_LEVEL": "error", "DATABASE_PATH": "~/s.db"}, root=project)

    assert from_file.log_level == "DEBUG" and from_file.dev_guild_id == 9
    assert from_file.database_path == project / "data" / "shelf.db"
    assert from_file.env_file == project / ".env"
    assert overridden.log_level == "ERROR" and overridden.dev_guild_id == 9
    assert overridden.database_path == tmp_path / "home" / "s.db"


def test_project_root_is_the_folder_with_pyproject(tmp_path, monkeypatch):
    assert PROJECT_ROOT == ROOT
    # Installed without the project around it (a wheel): the current folder stands in.
    package = tmp_path / "site-packages" / "bot"
    package.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert find_project_root(package) == tmp_path


def test_a_database_in_another_encoding_is_refused(clean_env, tmp_path, monkeypatch, capsys):
    from tests import pg

    if not pg.enabled():
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    name = "storyshelf_test_latin1_" + str(os.getpid())
    pg.query(
        pg.TEST_DATABASE_URL or "",
        f"CREATE DATABASE {name} ENCODING 'LATIN1' TEMPLATE template0 LC_CTYPE 'C' LC_COLLATE 'C'",
        (),
    )
    try:
        monkeypatch.setenv("DISCORD_TOKEN", "secret.token.value")
        monkeypatch.setenv("DATABASE_URL", pg.with_database(pg.TEST_DATABASE_URL or "", name))
        assert main([]) == 2
        err = capsys.readouterr().err
        assert len(_failure_lines(err)) == 1 and "LATIN1" in err and "UTF8" in err
        tables = pg.query(
            pg.with_database(pg.TEST_DATABASE_URL or "", name),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            (),
        )
        assert tables == [(0,)]  # nothing was created in it
    finally:
        pg.drop_database(name)


async def test_the_servers_sent_at_start_stay_out_of_the_collectors_full_passes(
    reading_world, settings
):
    """A bot in many servers caches hundreds of objects for each; scanned at every full
    garbage-collector pass they would stall the event loop. Those the gateway sends
    before READY are frozen with what the bot built at start-up."""
    import gc

    from tests.support import restart

    env, guild, general, lounge, reader = reading_world
    bot = await restart(env, settings)
    cached = bot.get_guild(guild.id)
    assert cached is not None and cached.get_channel(general.id) is not None
    tracked = gc.get_objects()  # the collector's generations; frozen objects are not in them
    assert not any(o is cached for o in tracked)
    assert not any(o is cached.get_channel(general.id) for o in tracked)
