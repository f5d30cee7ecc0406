"""Configuration, read once from the environment and `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

__all__ = ("DEFAULT_DATABASE_PATH", "Settings", "SettingsError")

DEFAULT_DATABASE_PATH = Path("data/storyshelf.db")
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class SettingsError(ValueError):
    """A configuration value is present but unusable."""


@dataclass(frozen=True, slots=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    database_path: Path = DEFAULT_DATABASE_PATH
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

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Build settings from `.env` overlaid by the process environment."""
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        return cls(
            token=get("DISCORD_TOKEN"),
            database_path=Path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
            dev_guild_id=_int_or_none("DEV_GUILD_ID", get("DEV_GUILD_ID")),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            max_upload_bytes=_int_or_none("MAX_UPLOAD_BYTES", get("MAX_UPLOAD_BYTES"))
            or DEFAULT_MAX_UPLOAD_BYTES,
            shard_count=_int_or_none("SHARD_COUNT", get("SHARD_COUNT")),
            shard_ids=_int_tuple("SHARD_IDS", get("SHARD_IDS")),
            busy_timeout_ms=_int_or_none("BUSY_TIMEOUT_MS", get("BUSY_TIMEOUT_MS")) or 2_000,
            command_cooldown=_cooldown(get("COMMAND_COOLDOWN")),
            reconcile_days=_positive_float("RECONCILE_DAYS", get("RECONCILE_DAYS")) or 7.0,
        )


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


def _cooldown(value: str | None) -> tuple[int, float]:
    """`COMMAND_COOLDOWN=5/10`: five uses per ten seconds per user."""
    if value is None:
        return (5, 10.0)
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
