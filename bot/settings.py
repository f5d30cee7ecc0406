"""Configuration, read once from the project's `.env` and the environment.

Lookup order, the same from any working folder:

1. the process environment (wins: a service manager or a shell can override one value);
2. the project's `.env`, the one next to `pyproject.toml` above this package (or the
   file named by `STORYSHELF_ENV_FILE`); a `.env` in the current folder is not read;
3. the defaults below.

A relative `DATABASE_PATH` is resolved against the project folder and `~` is
expanded, so `python -m bot` run from anywhere opens the same shelf.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

__all__ = (
    "DEFAULT_DATABASE_PATH",
    "ENV_FILE_VARIABLE",
    "PROJECT_ROOT",
    "Settings",
    "SettingsError",
    "find_project_root",
    "resolve_path",
)

DEFAULT_DATABASE_PATH = Path("data/storyshelf.db")
# Names another `.env` to read instead of the project's (several bots from one checkout, tests).
ENV_FILE_VARIABLE = "STORYSHELF_ENV_FILE"


def find_project_root(package_dir: Path | None = None) -> Path:
    """The folder holding `pyproject.toml` above the `bot` package.

    Installed as a wheel (no `pyproject.toml` beside the package) there is no
    project folder: the current folder stands in for it, as it always did.
    """
    package_dir = package_dir or Path(__file__).resolve().parent
    candidate = package_dir.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


PROJECT_ROOT = find_project_root()
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class SettingsError(ValueError):
    """A configuration value is present but unusable."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    database_path: Path = DEFAULT_DATABASE_PATH
    # PostgreSQL (postgresql://…) instead of the SQLite file: one shelf for processes
    # on several machines. DATABASE_PATH still places this process's feedback journal.
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # Seconds the feedback writer may hold events before flushing them.
    feedback_flush_interval: float = 1.0
    # None lets Discord recommend a shard count; SHARD_IDS runs a subset per process.
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # Milliseconds a write waits for another connection's lock before "busy, try
    # again"; under Discord's 3 s to answer an interaction.
    busy_timeout_ms: int = 2_000
    # Per-user limit on /read, /excerpt and /search: this many uses per this many seconds.
    command_cooldown: tuple[int, float] = (5, 10.0)
    # Excerpts posted within this many days have their reactions reconciled with
    # Discord at start-up and after every reconnect.
    reconcile_days: float = 7.0
    # The `.env` that was read (None: none was found); shown in the start-up log line.
    env_file: Path | None = None
    # Seconds the feedback writer keeps retrying at shutdown while another process holds
    # the write lock, before it keeps what is left in a journal (replayed at the next
    # start). Keep it under the service manager's stop timeout (Docker's is 10 s).
    shutdown_budget: float = 5.0
    # False for `python -m bot sync`, which logs the bot in only to sync once itself.
    sync_commands_on_start: bool = True

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        env_file: str | Path | None = None,
        root: Path | None = None,
    ) -> Settings:
        """Build settings from the project's `.env` overlaid by the process environment.

        `root` is the project folder (default: found from this package);
        `env_file` a `.env` to read instead of `root/.env`.
        """
        environ = os.environ if environ is None else environ
        root = PROJECT_ROOT if root is None else root
        env_path = _env_file_path(environ, env_file, root)
        values: dict[str, str] = {}
        if env_path is not None:
            values.update({k: v for k, v in dotenv_values(env_path).items() if v is not None})
        values.update(environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        database_url = get("DATABASE_URL")
        if database_url is not None and not database_url.startswith(_POSTGRES_SCHEMES):
            # Said without the address itself: it may carry a password.
            raise SettingsError(
                "DATABASE_URL must start with postgresql:// (PostgreSQL is the only "
                "database server Storyshelf uses); unset it to keep the shelf in the "
                "SQLite file at DATABASE_PATH"
            )
        # Every default is written once, on the fields: an unset variable takes it.
        default = cls()
        return cls(
            token=get("DISCORD_TOKEN"),
            database_path=resolve_path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH, root),
            database_url=database_url,
            dev_guild_id=_int_or_none("DEV_GUILD_ID", get("DEV_GUILD_ID")),
            log_level=(get("LOG_LEVEL") or default.log_level).upper(),
            max_upload_bytes=_int_or_none("MAX_UPLOAD_BYTES", get("MAX_UPLOAD_BYTES"))
            or default.max_upload_bytes,
            shard_count=_int_or_none("SHARD_COUNT", get("SHARD_COUNT")),
            shard_ids=_int_tuple("SHARD_IDS", get("SHARD_IDS")),
            busy_timeout_ms=_int_or_none("BUSY_TIMEOUT_MS", get("BUSY_TIMEOUT_MS"))
            or default.busy_timeout_ms,
            command_cooldown=_cooldown(get("COMMAND_COOLDOWN")) or default.command_cooldown,
            reconcile_days=_positive_float("RECONCILE_DAYS", get("RECONCILE_DAYS"))
            or default.reconcile_days,
            shutdown_budget=_positive_float("SHUTDOWN_BUDGET", get("SHUTDOWN_BUDGET"))
            or default.shutdown_budget,
            env_file=env_path,
        )


def resolve_path(value: str | Path, root: Path) -> Path:
    """`~` expanded, and a relative path taken from the project folder, not the current one."""
    path = Path(value)
    if str(path) == ":memory:":
        return path
    path = path.expanduser()
    return path if path.is_absolute() else root / path


def _env_file_path(
    environ: Mapping[str, str], env_file: str | Path | None, root: Path
) -> Path | None:
    if env_file is None:
        named = environ.get(ENV_FILE_VARIABLE, "").strip()
        if named:
            path = Path(named).expanduser().absolute()
            if not path.exists() or path.is_dir():  # /dev/null is fine: read nothing
                raise SettingsError(f"{ENV_FILE_VARIABLE} names {path}, which is not a file")
            return path
        env_file = root / ".env"
    path = Path(env_file).expanduser()
    return path if path.is_file() else None


def _int_or_none(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{name} must be positive, got {value!r}")
    return number


def _int_tuple(name: str, value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
    except ValueError:
        raise SettingsError(
            f"{name} must be comma-separated whole numbers, got {value!r}"
        ) from None


def _positive_float(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if not number > 0:
        raise SettingsError(f"{name} must be positive, got {value!r}")
    return number


def _cooldown(value: str | None) -> tuple[int, float] | None:
    """`COMMAND_COOLDOWN=5/10`: five uses per ten seconds per user."""
    if value is None:
        return None
    rate, sep, per = value.partition("/")
    try:
        parsed = (int(rate), float(per))
    except ValueError:
        parsed = (0, 0.0)
    if not sep or parsed[0] <= 0 or parsed[1] <= 0:
        raise SettingsError(
            f"COMMAND_COOLDOWN must look like 5/10 (uses per seconds), got {value!r}"
        )
    return parsed
