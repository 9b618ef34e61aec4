namespace Cpm.Api.Storage.Sqlite;

/// <summary>
/// The embedded store's schema. Rows are never removed (deletes are soft), so the primary keys
/// make product ids unique across the register forever; a partial unique index keeps live aliases unique.
/// </summary>
internal static class SqliteSchema
{
    public const string Create = """
        CREATE TABLE IF NOT EXISTS product_teams (
            id TEXT PRIMARY KEY,
            alias TEXT,
            name TEXT NOT NULL,
            ods_code TEXT NOT NULL,
            status TEXT NOT NULL,
            created_on TEXT NOT NULL,
            updated_on TEXT,
            deleted_on TEXT,
            keys TEXT NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS product_teams_live_alias ON product_teams (alias) WHERE status = 'active';
        CREATE INDEX IF NOT EXISTS product_teams_live_by_org ON product_teams (ods_code, id) WHERE status = 'active';

        CREATE TABLE IF NOT EXISTS products (
            id TEXT PRIMARY KEY,
            product_team_id TEXT NOT NULL REFERENCES product_teams (id),
            product_team_alias TEXT,
            name TEXT NOT NULL,
            ods_code TEXT NOT NULL,
            status TEXT NOT NULL,
            created_on TEXT NOT NULL,
            updated_on TEXT,
            deleted_on TEXT,
            version INTEGER NOT NULL
        );
        -- Every live product, filed under its organisation and team and holding every column: a search
        -- by organisation or by team reads neighbouring index entries and never the table. (It replaces
        -- two narrower indexes whose searches read each product from wherever its row happened to be.)
        CREATE INDEX IF NOT EXISTS products_live ON products
            (ods_code, product_team_id, id, product_team_alias, name, status, created_on, updated_on, deleted_on, version)
            WHERE status = 'active';
        DROP INDEX IF EXISTS products_live_by_team;
        DROP INDEX IF EXISTS products_live_by_org;

        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            entity_type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            type TEXT NOT NULL,
            occurred_on TEXT NOT NULL,
            version INTEGER NOT NULL,
            request_id TEXT,
            correlation_id TEXT,
            actor TEXT NOT NULL,
            changes TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_by_entity ON events (entity_type, entity_id, seq);

        CREATE TABLE IF NOT EXISTS responses (
            caller TEXT NOT NULL,
            request_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            etag TEXT,
            created_on TEXT NOT NULL,
            PRIMARY KEY (caller, request_id)
        );

        CREATE TABLE IF NOT EXISTS delivery_cursors (
            subscriber TEXT PRIMARY KEY,
            sequence INTEGER NOT NULL
        );

        CREATE TABLE IF NOT EXISTS data_protection_keys (
            name TEXT PRIMARY KEY,
            xml TEXT NOT NULL
        );
        """;

    /// <summary>The indexes a bulk load builds after its rows are in (<see cref="Create"/> builds them again).</summary>
    public const string DropSecondaryIndexes = """
        DROP INDEX IF EXISTS products_live;
        DROP INDEX IF EXISTS events_by_entity;
        """;
}
