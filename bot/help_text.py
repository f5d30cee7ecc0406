"""The text of /help, kept beside the code so it stays true."""

from __future__ import annotations

import discord

READER_COMMANDS = (
    ("/stories [query] [rating]", "Browse this server's shelf."),
    ("/story title:", "A story's card: metadata, sections and feedback."),
    ("/read title: [section] [page]", "Read a section, behind spoiler tags, with page buttons."),
    ("/excerpt [title]", "A short random passage, behind spoiler tags."),
    ("/search query: [title]", "Find words in this server's stories."),
    ("/feedback title:", "Readers' reactions on a story's excerpts."),
)
MODERATOR_COMMANDS = (
    ("/library add file:", "Upload a story (.txt, .md, AO3 .html); preview, then confirm."),
    ("/library edit title:", "Correct title, author, rating, summary, notes."),
    ("/library replace title: file:", "Upload a new version; feedback stays."),
    ("/library remove title:", "Remove a story (you get an export first)."),
    ("/library export title:", "The story as a text file and its feedback as CSV."),
    ("/library settings", "Feedback emoji and the highest rating outside age-restricted channels."),
)


def help_embed() -> discord.Embed:
    embed = discord.Embed(
        title="Storyshelf",
        description=(
            "A shelf of stories for this server. Every excerpt is posted behind spoiler "
            "tags, so nobody reads what they did not choose to open. React to an excerpt "
            "with an emoji to leave feedback for the story."
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
    embed.set_footer(
        text="Mature and Explicit stories are only posted in age-restricted channels "
        "unless the server allows Mature elsewhere."
    )
    return embed
