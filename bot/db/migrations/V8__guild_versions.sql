-- A counter per server for each thing a process keeps in memory about it: `shelf`
-- (its stories' titles and ratings: autocomplete answers) and `settings` (the
-- rating gate, feedback emoji). Every process on the file reads the row before
-- trusting what it remembers, so a change made by another process (another shard
-- group, the command line) is seen by the next command. Kept by triggers, so no
-- write path can forget to bump it.
CREATE TABLE guild_versions (
    guild_id INTEGER PRIMARY KEY,
    shelf    INTEGER NOT NULL DEFAULT 0,
    settings INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER stories_shelf_version_insert AFTER INSERT ON stories BEGIN
    INSERT INTO guild_versions (guild_id, shelf) VALUES (new.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET shelf = shelf + 1;
END;
CREATE TRIGGER stories_shelf_version_delete AFTER DELETE ON stories BEGIN
    INSERT INTO guild_versions (guild_id, shelf) VALUES (old.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET shelf = shelf + 1;
END;
CREATE TRIGGER stories_shelf_version_update
AFTER UPDATE OF guild_id, title, title_key, rating_label, rating_level ON stories BEGIN
    INSERT INTO guild_versions (guild_id, shelf) VALUES (old.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET shelf = shelf + 1;
    INSERT INTO guild_versions (guild_id, shelf) SELECT new.guild_id, 1
        WHERE new.guild_id != old.guild_id
        ON CONFLICT (guild_id) DO UPDATE SET shelf = shelf + 1;
END;

CREATE TRIGGER guild_settings_version_insert AFTER INSERT ON guild_settings BEGIN
    INSERT INTO guild_versions (guild_id, settings) VALUES (new.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET settings = settings + 1;
END;
CREATE TRIGGER guild_settings_version_update AFTER UPDATE ON guild_settings BEGIN
    INSERT INTO guild_versions (guild_id, settings) VALUES (new.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET settings = settings + 1;
END;
CREATE TRIGGER guild_settings_version_delete AFTER DELETE ON guild_settings BEGIN
    INSERT INTO guild_versions (guild_id, settings) VALUES (old.guild_id, 1)
        ON CONFLICT (guild_id) DO UPDATE SET settings = settings + 1;
END;
