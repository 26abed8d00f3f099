//! The SQLite and PostgreSQL migrations make the same schema: a fresh database of each kind is
//! migrated, both catalogs are read (see `tests/api/schema_diff.rs` for what is compared), and
//! every difference must be one of [`DELIBERATE`], each with its reason.

use std::collections::BTreeMap;

use sqlx::{AnyPool, Row};
use tenantry_store::{ConnectOptions, PostgresRoles, SqlStore};

use crate::schema_diff::{self, Deliberate, Schema};
use crate::test_db::{Backend, TestDatabase};

/// The differences the two schemas have on purpose, by [`schema_diff::Difference::key`]. An entry
/// whose reason starts with "accidental:" is a gap to close with a migration in both folders.
const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        difference: "index events (tx, seq) only on PostgreSQL",
        reason: "postgres/0014_event_indexes.sql: readers page PostgreSQL's events by the writing transaction \
                 and seq; SQLite's tx is always 0, so it pages by seq, the primary key",
    },
    Deliberate {
        difference: "index memberships (org_id, user_id) only on SQLite",
        reason: "SQLite's side of the entry below: the same unique (org_id, user_id) index without the carried \
                 columns (SQLite has no INCLUDE, and generic plans are PostgreSQL's)",
    },
    Deliberate {
        difference: "index memberships (org_id, user_id, id, role, joined_at) only on PostgreSQL",
        reason: "postgres/0002_member_pages.sql: covers the membership lookup of every member request, so that a \
                 generic plan for `org_id = $1 AND user_id = $2` does not prefer the index-only scan of the member \
                 page index and filter a whole org's memberships; a PostgreSQL planning aid, the rule (one membership \
                 per org and user) is the same unique (org_id, user_id) on both",
    },
    Deliberate {
        difference: "index memberships (org_id, user_id, id, role, joined_at, status) only on PostgreSQL",
        reason: "postgres/0011_member_status.sql: the entry above with the status, which the lookup reads since \
                 0011; beside it, because team_members' foreign key depends on the index above",
    },
    Deliberate {
        difference: "unique memberships (id, org_id) only on PostgreSQL",
        reason: "PostgreSQL declares its (org_id, id) paging index memberships_org_page UNIQUE, SQLite's is plain; \
                 id is the primary key on both, so the pair is unique either way and no row is admitted by one \
                 database and refused by the other",
    },
    Deliberate {
        difference: "unique api_keys (id, org_id) only on PostgreSQL",
        reason: "PostgreSQL declares its (org_id, id) paging index api_keys_org UNIQUE, SQLite's is plain; id is \
                 the primary key on both, so the pair is unique either way",
    },
    Deliberate {
        difference: "unique invitations (id, org_id) only on PostgreSQL",
        reason: "PostgreSQL declares its (org_id, id) paging index invitations_org_id UNIQUE, SQLite's is plain; id \
                 is the primary key on both, so the pair is unique either way",
    },
];

/// sqlx's record of applied migrations, not part of the schema.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

#[tokio::test]
async fn sqlite_and_postgresql_migrations_make_the_same_schema() {
    let sqlite = migrated(Backend::Sqlite).await;
    let postgres = migrated(Backend::Postgres).await;
    let sqlite_schema = sqlite_schema(&sqlite.admin_pool().await).await;
    let postgres_schema = postgres_schema(&postgres.admin_pool().await).await;

    // Both reads found the schema (an empty read would compare equal).
    for schema in [&sqlite_schema, &postgres_schema] {
        let memberships = &schema.tables["memberships"];
        assert!(memberships.columns.contains_key("org_id") && !memberships.indexes.is_empty(), "{schema:#?}");
    }

    let differences = schema_diff::compare(&sqlite_schema, &postgres_schema);
    if let Err(failure) = schema_diff::check(&differences, DELIBERATE) {
        panic!("{failure}");
    }
}

/// A fresh database of `backend` with every migration applied, as `tenantry migrate` leaves it.
async fn migrated(backend: Backend) -> TestDatabase {
    let database = TestDatabase::create(backend).await;
    let store = SqlStore::connect(&database.url, &ConnectOptions { max_connections: 1 }).await.expect("the database");
    let roles = database.owner_url.clone().map(|owner_url| PostgresRoles { owner_url });
    store.migrate(roles.as_ref()).await.expect("the migrations apply");
    store.close().await;
    database
}

/// The schema of a SQLite database, from `sqlite_master` and the table pragmas.
async fn sqlite_schema(pool: &AnyPool) -> Schema {
    let mut schema = Schema::default();
    let tables = sqlx::query("SELECT name, strict, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'")
        .fetch_all(pool)
        .await
        .expect("the tables");
    // Whether a table's primary key columns are NOT NULL without saying so: in a STRICT or
    // WITHOUT ROWID table they are; in another, only an INTEGER PRIMARY KEY (the rowid) is.
    let mut key_implies_not_null = BTreeMap::new();
    for row in tables {
        let name: String = row.get(0);
        if name.starts_with("sqlite_") || name == MIGRATIONS_TABLE {
            continue;
        }
        key_implies_not_null.insert(name.clone(), row.get::<i64, _>(1) == 1 || row.get::<i64, _>(2) == 1);
        schema.table(&name);
    }

    let columns = sqlx::query(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' ORDER BY m.name, p.pk, p.cid",
    )
    .fetch_all(pool)
    .await
    .expect("the columns");
    let mut keys: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in &columns {
        let (table, column, kind): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        let (not_null, pk): (i64, i64) = (row.get(3), row.get(4));
        if !schema.tables.contains_key(&table) {
            continue;
        }
        schema.table(&table).column(&column, not_null == 0);
        if pk > 0 {
            keys.entry(table).or_default().push((column, kind));
        }
    }
    for (table, key) in keys {
        let rowid = key.len() == 1 && key[0].1.eq_ignore_ascii_case("INTEGER");
        let implied = key_implies_not_null[&table] || rowid;
        let entry = schema.table(&table);
        if implied {
            for (column, _) in &key {
                entry.column(column, false);
            }
        }
        entry.primary_key(&key.iter().map(|(column, _)| column.as_str()).collect::<Vec<_>>());
    }

    // `origin` is `pk` for the primary key's own index, `u` for a UNIQUE constraint's, `c` for
    // CREATE INDEX; an expression column has no name.
    let indexes = sqlx::query(
        "SELECT m.name, l.name, l.\"unique\", l.origin, l.partial, i.name \
         FROM sqlite_master m JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i \
         WHERE m.type = 'table' ORDER BY m.name, l.name, i.seqno",
    )
    .fetch_all(pool)
    .await
    .expect("the indexes");
    let mut by_index: BTreeMap<(String, String), IndexColumns> = BTreeMap::new();
    for row in indexes {
        let (table, index, origin): (String, String, String) = (row.get(0), row.get(1), row.get(3));
        if origin == "pk" || !schema.tables.contains_key(&table) {
            continue;
        }
        let (unique, partial, column): (i64, i64, Option<String>) = (row.get(2), row.get(4), row.get(5));
        let entry = by_index.entry((table, index)).or_default();
        (entry.unique, entry.partial) = (unique == 1, partial == 1);
        entry.key.push(column.unwrap_or_else(|| "<expression>".into()));
    }
    add_indexes(&mut schema, by_index);
    schema
}

/// The schema of the PostgreSQL database's `public` schema, from `information_schema` (tables,
/// columns, primary keys and unique constraints) and `pg_index` (indexes, unique ones included).
async fn postgres_schema(pool: &AnyPool) -> Schema {
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> $1 \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .expect("the columns");
    for row in columns {
        let (table, column, nullable): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        schema.table(&table).column(&column, nullable == "YES");
    }

    let constraints = sqlx::query(
        "SELECT tc.table_name::text, tc.constraint_name::text, tc.constraint_type::text, k.column_name::text \
         FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k \
           ON k.constraint_schema = tc.constraint_schema AND k.constraint_name = tc.constraint_name \
          AND k.table_name = tc.table_name \
         WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') AND tc.table_name <> $1 \
         ORDER BY tc.table_name, tc.constraint_name, k.ordinal_position",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .expect("the constraints");
    let mut by_constraint: BTreeMap<(String, String), (bool, Vec<String>)> = BTreeMap::new();
    for row in constraints {
        let (table, name, kind, column): (String, String, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        by_constraint.entry((table, name)).or_insert((kind == "PRIMARY KEY", vec![])).1.push(column);
    }
    for ((table, _), (primary, columns)) in by_constraint {
        if primary {
            schema.table(&table).primary_key(&columns);
        } else {
            schema.table(&table).unique(&columns, false);
        }
    }

    // One row per index column: key columns first (`ord <= indnkeyatts`), then INCLUDE columns.
    let indexes = sqlx::query(
        "SELECT t.relname::text, i.relname::text, x.indisunique, x.indisprimary, x.indpred IS NOT NULL, \
                k.ord <= x.indnkeyatts, COALESCE(a.attname::text, pg_get_indexdef(x.indexrelid, k.ord::int, true)) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0 \
         WHERE n.nspname = 'public' AND t.relkind IN ('r', 'p') AND t.relname <> $1 \
         ORDER BY t.relname, i.relname, k.ord",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .expect("the indexes");
    let mut by_index: BTreeMap<(String, String), IndexColumns> = BTreeMap::new();
    for row in indexes {
        let (table, index, primary): (String, String, bool) = (row.get(0), row.get(1), row.get(3));
        if primary {
            continue;
        }
        let (unique, partial, is_key, column): (bool, bool, bool, String) =
            (row.get(2), row.get(4), row.get(5), row.get(6));
        let entry = by_index.entry((table, index)).or_default();
        (entry.unique, entry.partial) = (unique, partial);
        let columns = if is_key { &mut entry.key } else { &mut entry.include };
        columns.push(column);
    }
    add_indexes(&mut schema, by_index);
    schema
}

/// An index as read from a catalog, row by row.
#[derive(Default)]
struct IndexColumns {
    unique: bool,
    partial: bool,
    key: Vec<String>,
    /// Carried, not part of the key (PostgreSQL's `INCLUDE`).
    include: Vec<String>,
}

/// Adds each index of `(table, index name)`, and its unique column set if it is unique.
fn add_indexes(schema: &mut Schema, indexes: BTreeMap<(String, String), IndexColumns>) {
    for ((table, name), index) in indexes {
        let table = schema.table(&table);
        table.index(&name, &index.key, &index.include, index.partial);
        if index.unique {
            table.unique(&index.key, index.partial);
        }
    }
}
