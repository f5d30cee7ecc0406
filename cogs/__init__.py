"""discord.py extensions, one per user-facing feature. Each module is loaded at start-up."""
