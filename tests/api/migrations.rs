//! The two migration folders describe one schema: same files, same statements, apart from the
//! dialect differences listed in `migrations/README.md`.

use std::collections::BTreeMap;
use std::path::Path;

/// Each `.sql` file of a folder, by name.
fn migrations(dialect: &str) -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(dialect);
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// A file's statements in the PostgreSQL dialect, one per line, whitespace and comments folded.
fn statements(sql: &str, from_sqlite: bool) -> Vec<String> {
    let without_comments: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let mut folded = without_comments
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")");
    if from_sqlite {
        folded = folded
            .replace(
                "INTEGER PRIMARY KEY",
                "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
            )
            .replace("INTEGER", "BIGINT")
            .replace("BLOB", "BYTEA");
    }
    folded
        .split(';')
        .map(str::trim)
        .filter(|statement| !statement.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn sqlite_and_postgres_migrations_describe_the_same_schema() {
    let (sqlite, postgres) = (migrations("sqlite"), migrations("postgres"));
    assert!(!sqlite.is_empty(), "no migrations found");
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "the two folders hold different files"
    );
    for (name, sqlite_sql) in &sqlite {
        let expected = statements(sqlite_sql, true);
        let found = statements(&postgres[name], false);
        assert_eq!(expected.len(), found.len(), "{name}: statement count");
        for (sqlite_statement, postgres_statement) in expected.iter().zip(&found) {
            assert_eq!(
                sqlite_statement, postgres_statement,
                "{name}: the statements differ beyond the dialect"
            );
        }
    }
}

#[test]
fn the_dialect_rules_do_not_hide_a_real_difference() {
    let sqlite = "CREATE TABLE t (id INTEGER PRIMARY KEY, flag INTEGER NOT NULL);";
    let same = "CREATE TABLE t (\n  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- id\n  flag BIGINT NOT NULL\n);";
    let other =
        "CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, flag TEXT NOT NULL);";
    assert_eq!(statements(sqlite, true), statements(same, false));
    assert_ne!(statements(sqlite, true), statements(other, false));
}
