"""The product's behaviour, free of Discord: reading (find, gate, render pages, search,
feedback reports), the librarian (uploads, edits, removal, export, settings), reading
progress, and reconciliation of reactions after a reconnect.

Each service is built once in `Storyshelf.setup_hook` with its collaborators passed in
(the database connection, the server-settings store, callbacks to the others). It
takes plain values — a `Place` (server, age-restricted or not, who asks), ids, typed
text — and returns records or rendered text, or raises `bot.errors.UserFacingError`.
The cogs in `cogs/` turn those into Discord messages.
"""
