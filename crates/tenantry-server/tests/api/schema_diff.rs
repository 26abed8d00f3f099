//! Two database schemas compared by what they hold rather than by the SQL that made them: the
//! schema-parity test (`tests/api_postgres/schema_parity.rs`) reads SQLite's and PostgreSQL's
//! catalogs into a [`Schema`] each and reports every [`Difference`] its list of deliberate ones
//! does not explain.
//!
//! Compared: tables, columns, nullability, primary keys, unique column sets (a unique constraint
//! and a unique index on the same columns are the same thing) and indexes by table and column
//! list. Not compared: names of indexes and constraints, column types, defaults, checks, foreign
//! keys, triggers, and the predicate of a partial index (only that it is partial).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sqlite,
    Postgres,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Sqlite => "SQLite",
            Side::Postgres => "PostgreSQL",
        })
    }
}

#[derive(Debug, Default, Clone)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Default, Clone)]
pub struct Table {
    /// Each column and whether it admits NULL.
    pub columns: BTreeMap<String, bool>,
    /// In key order; empty without a primary key.
    pub primary_key: Vec<String>,
    /// Column sets no two rows may share, declared as constraint or as unique index alike; the
    /// primary key is compared on its own.
    pub unique: BTreeSet<Unique>,
    /// Every index but the primary key's, by what it holds, with how its backend declares it
    /// (for messages only).
    pub indexes: BTreeMap<IndexShape, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unique {
    pub columns: BTreeSet<String>,
    /// A partial unique index (`… WHERE …`) holds only for the rows it covers.
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexShape {
    /// The key columns in order, then the columns only carried (PostgreSQL's `INCLUDE`): SQLite
    /// has no `INCLUDE` and carries them as trailing key columns, so the two compare equal.
    pub columns: Vec<String>,
    pub partial: bool,
}

impl Schema {
    /// The table `name`, added empty if missing.
    pub fn table(&mut self, name: &str) -> &mut Table {
        self.tables.entry(name.to_owned()).or_default()
    }
}

impl Table {
    pub fn column(&mut self, name: &str, nullable: bool) -> &mut Self {
        self.columns.insert(name.to_owned(), nullable);
        self
    }

    pub fn primary_key<S: AsRef<str>>(&mut self, columns: &[S]) -> &mut Self {
        self.primary_key = columns.iter().map(|c| c.as_ref().to_owned()).collect();
        self
    }

    pub fn unique<S: AsRef<str>>(&mut self, columns: &[S], partial: bool) -> &mut Self {
        self.unique.insert(Unique { columns: columns.iter().map(|c| c.as_ref().to_owned()).collect(), partial });
        self
    }

    /// An index called `name` on `key` (in order), carrying `include` too.
    pub fn index<S: AsRef<str>>(&mut self, name: &str, key: &[S], include: &[S], partial: bool) -> &mut Self {
        let list = |columns: &[S]| columns.iter().map(|c| c.as_ref()).collect::<Vec<_>>().join(", ");
        let mut declared = format!("{name} ({})", list(key));
        if !include.is_empty() {
            declared.push_str(&format!(" INCLUDE ({})", list(include)));
        }
        if partial {
            declared.push_str(" WHERE …");
        }
        let columns = key.iter().chain(include).map(|c| c.as_ref().to_owned()).collect();
        self.indexes.entry(IndexShape { columns, partial }).or_insert(declared);
        self
    }
}

/// One thing a schema has that the other has not, or has otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Table {
        table: String,
        only_on: Side,
    },
    Column {
        table: String,
        column: String,
        only_on: Side,
    },
    /// The column admits NULL on `nullable_on` only.
    Nullability {
        table: String,
        column: String,
        nullable_on: Side,
    },
    PrimaryKey {
        table: String,
        sqlite: Vec<String>,
        postgres: Vec<String>,
    },
    Unique {
        table: String,
        unique: Unique,
        only_on: Side,
    },
    Index {
        table: String,
        shape: IndexShape,
        only_on: Side,
        declared: String,
    },
}

fn list<'a>(columns: impl IntoIterator<Item = &'a String>) -> String {
    columns.into_iter().map(String::as_str).collect::<Vec<_>>().join(", ")
}

impl Difference {
    /// What differs, without the names either backend gives it: how the list of deliberate
    /// differences names one.
    pub fn key(&self) -> String {
        match self {
            Difference::Table { table, only_on } => format!("table {table} only on {only_on}"),
            Difference::Column { table, column, only_on } => format!("column {table}.{column} only on {only_on}"),
            Difference::Nullability { table, column, nullable_on } => {
                format!("column {table}.{column} nullable only on {nullable_on}")
            }
            Difference::PrimaryKey { table, sqlite, postgres } => {
                format!("primary key of {table}: ({}) on SQLite, ({}) on PostgreSQL", list(sqlite), list(postgres))
            }
            Difference::Unique { table, unique, only_on } => {
                let kind = if unique.partial { "partial unique" } else { "unique" };
                format!("{kind} {table} ({}) only on {only_on}", list(&unique.columns))
            }
            Difference::Index { table, shape, only_on, .. } => {
                let kind = if shape.partial { "partial index" } else { "index" };
                format!("{kind} {table} ({}) only on {only_on}", list(&shape.columns))
            }
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())?;
        if let Difference::Index { declared, .. } = self {
            write!(f, " (declared as `{declared}`)")?;
        }
        Ok(())
    }
}

/// What `sqlite` has that `postgres` has not, and the other way round, table by table.
pub fn compare(sqlite: &Schema, postgres: &Schema) -> Vec<Difference> {
    let mut differences = Vec::new();
    for (name, table) in &sqlite.tables {
        match postgres.tables.get(name) {
            Some(other) => compare_tables(name, table, other, &mut differences),
            None => differences.push(Difference::Table { table: name.clone(), only_on: Side::Sqlite }),
        }
    }
    for name in postgres.tables.keys().filter(|name| !sqlite.tables.contains_key(*name)) {
        differences.push(Difference::Table { table: name.clone(), only_on: Side::Postgres });
    }
    differences
}

fn compare_tables(name: &str, sqlite: &Table, postgres: &Table, differences: &mut Vec<Difference>) {
    let table = || name.to_owned();
    for (side, these, those) in [(Side::Sqlite, sqlite, postgres), (Side::Postgres, postgres, sqlite)] {
        for column in these.columns.keys().filter(|column| !those.columns.contains_key(*column)) {
            differences.push(Difference::Column { table: table(), column: column.clone(), only_on: side });
        }
    }
    for (column, &nullable) in &sqlite.columns {
        match postgres.columns.get(column) {
            Some(&other) if other != nullable => differences.push(Difference::Nullability {
                table: table(),
                column: column.clone(),
                nullable_on: if nullable { Side::Sqlite } else { Side::Postgres },
            }),
            _ => {}
        }
    }
    if sqlite.primary_key != postgres.primary_key {
        differences.push(Difference::PrimaryKey {
            table: table(),
            sqlite: sqlite.primary_key.clone(),
            postgres: postgres.primary_key.clone(),
        });
    }
    for (side, these, those) in [(Side::Sqlite, sqlite, postgres), (Side::Postgres, postgres, sqlite)] {
        for unique in these.unique.difference(&those.unique) {
            differences.push(Difference::Unique { table: table(), unique: unique.clone(), only_on: side });
        }
    }
    for (side, these, those) in [(Side::Sqlite, sqlite, postgres), (Side::Postgres, postgres, sqlite)] {
        for (shape, declared) in these.indexes.iter().filter(|(shape, _)| !those.indexes.contains_key(*shape)) {
            differences.push(Difference::Index {
                table: table(),
                shape: shape.clone(),
                only_on: side,
                declared: declared.clone(),
            });
        }
    }
}

/// A difference the schemas have on purpose: its [`Difference::key`] and why.
pub struct Deliberate {
    pub difference: &'static str,
    pub reason: &'static str,
}

/// `Ok` when every difference is listed in `deliberate` and every entry of `deliberate` still
/// names one; otherwise a message naming the rest.
pub fn check(differences: &[Difference], deliberate: &[Deliberate]) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for entry in deliberate {
        if entry.reason.trim().is_empty() {
            problems.push(format!("the deliberate difference `{}` gives no reason", entry.difference));
        }
        if !listed.insert(entry.difference) {
            problems.push(format!("the deliberate difference `{}` is listed twice", entry.difference));
        }
    }
    let found: BTreeSet<String> = differences.iter().map(Difference::key).collect();
    let unexplained: Vec<_> = differences.iter().filter(|d| !listed.contains(d.key().as_str())).collect();
    if !unexplained.is_empty() {
        problems.push(format!(
            "the SQLite and PostgreSQL schemas differ:\n{}\nA schema change is one migration with the same number in \
             both folders (crates/tenantry-store/migrations/README.md); a difference kept on purpose goes in \
             DELIBERATE (tests/api_postgres/schema_parity.rs) with its reason.",
            unexplained.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n")
        ));
    }
    let stale: Vec<_> = deliberate.iter().filter(|entry| !found.contains(entry.difference)).collect();
    if !stale.is_empty() {
        problems.push(format!(
            "DELIBERATE lists differences the schemas no longer have; remove them:\n{}",
            stale.iter().map(|entry| format!("  - {}", entry.difference)).collect::<Vec<_>>().join("\n")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// A small schema: `notes` with an id, an org, a text and an index for paging an org's notes.
fn notes(index_name: &str) -> Schema {
    let mut schema = Schema::default();
    schema
        .table("notes")
        .column("id", false)
        .column("org_id", false)
        .column("body", true)
        .primary_key(&["id"])
        .unique(&["org_id", "body"], false)
        .index(index_name, &["org_id", "id"], &[], false);
    schema
}

#[test]
fn an_index_on_one_side_only_is_named_with_its_table_columns_and_side() {
    let sqlite = notes("notes_org_page");
    let mut postgres = notes("notes_org_page");
    postgres.table("notes").index("notes_body", &["body"], &[], false);

    let differences = compare(&sqlite, &postgres);
    assert_eq!(
        differences,
        [Difference::Index {
            table: "notes".into(),
            shape: IndexShape { columns: vec!["body".into()], partial: false },
            only_on: Side::Postgres,
            declared: "notes_body (body)".into(),
        }]
    );
    assert_eq!(differences[0].to_string(), "index notes (body) only on PostgreSQL (declared as `notes_body (body)`)");

    // The same the other way round, and a partial index is not the full one.
    let mut sqlite = notes("notes_org_page");
    sqlite.table("notes").index("notes_body", &["body"], &[], true);
    let keys: Vec<_> = compare(&sqlite, &notes("notes_org_page")).iter().map(Difference::key).collect();
    assert_eq!(keys, ["partial index notes (body) only on SQLite"]);
}

#[test]
fn indexes_compare_by_table_and_columns_not_by_name() {
    assert_eq!(compare(&notes("notes_org_page"), &notes("notes_by_org")), []);

    // Column order matters; PostgreSQL's INCLUDE columns count as trailing columns.
    let mut sqlite = notes("notes_org_page");
    sqlite.table("notes").index("notes_covering", &["org_id", "id", "body"], &[], false);
    let mut postgres = notes("notes_org_page");
    postgres.table("notes").index("notes_covering", &["org_id", "id"], &["body"], false);
    assert_eq!(compare(&sqlite, &postgres), []);
    let mut reversed = notes("notes_org_page");
    reversed.table("notes").index("notes_covering", &["id", "org_id", "body"], &[], false);
    let keys: Vec<_> = compare(&sqlite, &reversed).iter().map(Difference::key).collect();
    assert_eq!(
        keys,
        ["index notes (org_id, id, body) only on SQLite", "index notes (id, org_id, body) only on PostgreSQL"]
    );
}

#[test]
fn tables_columns_nullability_keys_and_unique_sets_are_compared() {
    let mut sqlite = notes("notes_org_page");
    sqlite.table("notes").column("legacy", true);
    let mut postgres = notes("notes_org_page");
    postgres.table("helpers").column("id", false);
    postgres
        .table("notes")
        .column("body", false)
        .column("created_at", false)
        .primary_key(&["org_id", "id"])
        .unique(&["body", "org_id"], false) // the same set, in another order
        .unique(&["org_id", "id"], false);

    let keys: Vec<_> = compare(&sqlite, &postgres).iter().map(Difference::key).collect();
    assert_eq!(
        keys,
        [
            "column notes.legacy only on SQLite",
            "column notes.created_at only on PostgreSQL",
            "column notes.body nullable only on SQLite",
            "primary key of notes: (id) on SQLite, (org_id, id) on PostgreSQL",
            "unique notes (id, org_id) only on PostgreSQL",
            "table helpers only on PostgreSQL",
        ]
    );
}

#[test]
fn the_deliberate_list_explains_only_what_it_names_and_goes_stale_with_the_schema() {
    let sqlite = notes("notes_org_page");
    let mut postgres = notes("notes_org_page");
    postgres.table("notes").index("notes_body", &["body"], &[], false);
    let differences = compare(&sqlite, &postgres);

    let explained = [Deliberate { difference: "index notes (body) only on PostgreSQL", reason: "a search" }];
    assert_eq!(check(&differences, &explained), Ok(()));

    let failure = check(&differences, &[]).unwrap_err();
    assert!(
        failure.contains("  - index notes (body) only on PostgreSQL (declared as `notes_body (body)`)"),
        "{failure}"
    );

    let failure = check(&[], &explained).unwrap_err();
    assert!(failure.contains("no longer have; remove them:\n  - index notes (body) only on PostgreSQL"), "{failure}");

    let unexplained = [Deliberate { difference: "index notes (body) only on PostgreSQL", reason: " " }];
    assert!(check(&differences, &unexplained).unwrap_err().contains("gives no reason"));
}
