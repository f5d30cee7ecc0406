"""The text of /help, kept beside the code so it stays true (a Discord message builder)."""

from __future__ import annotations

import discord

from bot.cards import escaped

READER_COMMANDS = (
    ("/stories [query] [rating]", "Browse this server's shelf."),
    ("/story title:", "A story's card: metadata, sections and feedback."),
    ("/read title: [section] [page] [private]", "Read a section behind spoiler tags; menus jump."),
    ("/continue [title]", "Pick up where you stopped (any story, or the last one)."),
    ("/progress list · /progress forget", "What you are reading here; erase that history."),
    ("/excerpt [title]", "A short random passage, behind spoiler tags."),
    ("/search query: [title]", "Find words in this server's stories."),
    ("/feedback title:", "Readers' reactions on a story's excerpts."),
    ("/club status", "Reading clubs here: the next section of each, and when."),
)
MODERATOR_COMMANDS = (
    ("/library add file:", "Upload a story (.txt, .md, .html, .epub); preview, then confirm."),
    ("/library edit title:", "Correct title, author, rating, summary, notes."),
    ("/library replace title: file:", "Upload a new version; feedback stays."),
    ("/library remove title:", "Remove a story (you get an export first)."),
    ("/library export title:", "The story as a text file and its feedback as CSV."),
    (
        "/club start title: channel: every: [at] [timezone] [role]",
        "Post a story a section at a time (daily, every N days, weekly on a day), "
        "each with a discussion thread; optional opt-in role to ping.",
    ),
    ("/club pause · resume · skip · stop", "Manage a club; skip posts the next section now."),
    ("/library settings", "Feedback emoji, highest rating outside age-restricted channels, notes."),
)


def help_embed(moderator_notes: str | None = None) -> discord.Embed:
    embed = discord.Embed(
        title="Storyshelf",
        description=(
            "A shelf of stories for this server. Every excerpt is posted behind spoiler "
            "tags, so nobody reads what they did not choose to open. React to an excerpt "
            "with an emoji to leave feedback for the story. Pressing the buttons of someone "
            "else's post gives you your own private copy. Reading in private "
            "(`/read private:True`) remembers where you are but collects no feedback: "
            "there is nothing to react to."
        ),
        colour=discord.Colour.dark_teal(),
    )
    embed.add_field(
        name="Reading",
        value="\n".join(f"`{usage}` {what}" for usage, what in READER_COMMANDS),
        inline=False,
    )
    embed.add_field(
        name="Moderators (Manage Messages)",
        value="\n".join(f"`{usage}` {what}" for usage, what in MODERATOR_COMMANDS),
        inline=False,
    )
    if moderator_notes and moderator_notes.strip():
        embed.add_field(
            name="From this server's moderators",
            value=escaped(moderator_notes, 1024),
            inline=False,
        )
    embed.set_footer(
        text="Mature and Explicit stories are only posted in age-restricted channels "
        "unless the server allows Mature elsewhere."
    )
    return embed
