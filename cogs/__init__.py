"""Where Discord ends: one discord.py extension per user-facing feature (reading,
library management, feedback, help), each loaded at start-up.

A cog holds its slash commands, their autocomplete, its buttons and menus
(`DynamicItem`s that carry their state in the custom id, registered by the cog),
modals and confirmation views. It turns an interaction into plain values
(`cogs._common.place_of`), calls a service on the bot (`bot.reader`,
`bot.librarian`, ...) and turns what comes back into a message. Modules whose
name starts with `_` are shared helpers, not extensions.
"""
