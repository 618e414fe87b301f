//! The benchmark's bulk SQL, in one place: multi-row INSERTs per table, with each table's
//! column list in [`COLUMNS`] (a test checks them against the migrations). The dataset is far
//! too large for the domain's one-row insert functions.

use accord::db::{Backend, Db};

/// The columns the dataset writes, per table.
pub const COLUMNS: &[(&str, &[&str])] = &[
    (
        "customers",
        &["id", "name", "name_key", "email_domain", "created_at"],
    ),
    (
        "contacts",
        &["id", "customer_id", "name", "email", "title", "created_at"],
    ),
    (
        "rooms",
        &[
            "id",
            "customer_id",
            "title",
            "search_key",
            "problem",
            "severity",
            "escalated_by_contact_id",
            "escalated_at",
            "status",
            "resolution",
            "lead_user_id",
            "communicator_user_id",
            "next_customer_update_due",
            "next_leadership_update_due",
            "opened_by",
            "opened_at",
            "updated_at",
            "version",
            "reply_token",
        ],
    ),
    (
        "members",
        &["room_id", "user_id", "kind", "added_by", "added_at"],
    ),
    (
        "workstreams",
        &[
            "id",
            "room_id",
            "title",
            "driver_user_id",
            "status",
            "next_step",
            "due_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "decision_types",
        &["id", "room_id", "name", "name_key", "owner_user_id"],
    ),
    (
        "decisions",
        &[
            "id",
            "room_id",
            "decision_type_id",
            "title",
            "rationale",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
        ],
    ),
    (
        "questions",
        &[
            "id",
            "room_id",
            "customer_id",
            "body",
            "terms",
            "stakeholder_contact_id",
            "stakeholder_name",
            "asked_by",
            "asked_at",
            "status",
            "answer",
        ],
    ),
    ("question_terms", &["customer_id", "term", "question_id"]),
    (
        "contact_touches",
        &[
            "id",
            "room_id",
            "contact_id",
            "channel",
            "summary",
            "touched_at",
            "by_user_id",
            "created_at",
        ],
    ),
    (
        "drafts",
        &[
            "id",
            "room_id",
            "created_by",
            "created_at",
            "current_revision",
        ],
    ),
    (
        "draft_revisions",
        &[
            "id",
            "draft_id",
            "number",
            "to_ids",
            "cc_ids",
            "subject",
            "body",
            "author_id",
            "created_at",
        ],
    ),
    (
        "approvals",
        &[
            "subject_kind",
            "subject_id",
            "user_id",
            "revision",
            "approved_at",
        ],
    ),
    (
        "timeline_events",
        &[
            "id",
            "room_id",
            "at",
            "actor_user_id",
            "kind",
            "summary",
            "link",
        ],
    ),
    (
        "leadership_updates",
        &[
            "id",
            "room_id",
            "created_by",
            "created_at",
            "current_revision",
            "published_version",
        ],
    ),
    (
        "update_revisions",
        &[
            "id",
            "update_id",
            "number",
            "status",
            "headline",
            "what_changed",
            "decisions",
            "risks",
            "asks",
            "next_due",
            "author_id",
            "created_at",
        ],
    ),
    (
        "pre_reads",
        &[
            "id",
            "room_id",
            "version",
            "update_id",
            "revision",
            "status",
            "headline",
            "what_changed",
            "decisions",
            "risks",
            "asks",
            "next_due",
            "snapshot",
            "published_by",
            "published_at",
        ],
    ),
    (
        "escalations",
        &[
            "id",
            "room_id",
            "subject_kind",
            "subject_id",
            "revision",
            "objector_user_id",
            "position",
            "raised_by",
            "raised_at",
        ],
    ),
    (
        "engagements",
        &[
            "id",
            "room_id",
            "workstream_id",
            "kind",
            "starts_at",
            "minutes",
            "purpose",
            "state",
            "planned_by",
            "planned_at",
        ],
    ),
    ("engagement_contacts", &["engagement_id", "contact_id"]),
    ("engagement_participants", &["engagement_id", "user_id"]),
    (
        "align_links",
        &[
            "token_digest",
            "user_id",
            "room_id",
            "subject_kind",
            "subject_id",
            "revision",
            "expires_at",
        ],
    ),
    (
        "inbound_messages",
        &[
            "id",
            "dedupe_key",
            "message_id",
            "state",
            "kind",
            "room_id",
            "contact_id",
            "matched_by",
            "thread_root",
            "from_address",
            "from_name",
            "subject",
            "body_text",
            "received_at",
            "source",
            "size_bytes",
        ],
    ),
];

/// A value to bind.
#[derive(Clone)]
pub enum V {
    I(i64),
    T(String),
    N,
}

/// Rows for one table, flushed in multi-row INSERTs.
pub struct Table {
    name: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<V>>,
}

impl Table {
    /// Rows for `name`, with its columns from [`COLUMNS`].
    pub fn new(name: &'static str) -> Table {
        let columns = COLUMNS
            .iter()
            .find(|(table, _)| *table == name)
            .map(|(_, columns)| *columns)
            .unwrap_or_else(|| panic!("{name} is not in bulk::COLUMNS"));
        Table {
            name,
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<V>) {
        self.rows.push(row);
    }

    pub async fn flush(&mut self, db: &Db) -> anyhow::Result<()> {
        let per_statement = (30_000 / self.columns.len()).min(1000);
        let overriding = match db.backend() {
            Backend::Postgres if self.columns[0] == "id" => " OVERRIDING SYSTEM VALUE",
            _ => "",
        };
        let mut tx = db.begin_write().await?;
        for chunk in self.rows.chunks(per_statement) {
            let mut sql = format!(
                "INSERT INTO {} ({}){overriding} VALUES ",
                self.name,
                self.columns.join(", ")
            );
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..self.columns.len() {
                    n += 1;
                    sql.push_str(&format!("{}${n}", if c > 0 { ", " } else { "" }));
                }
                sql.push(')');
            }
            let mut query = sqlx::query(&sql);
            for row in chunk {
                for value in row {
                    query = match value {
                        V::I(i) => query.bind(*i),
                        V::T(t) => query.bind(t.clone()),
                        V::N => query.bind(None::<i64>),
                    };
                }
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        if !overriding.is_empty() {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence('{0}', 'id'), (SELECT MAX(id) FROM {0}))",
                self.name
            );
            sqlx::query(&sql).execute(db.writer()).await?;
        }
        self.rows.clear();
        Ok(())
    }
}

pub fn t(s: impl Into<String>) -> V {
    V::T(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (column, required) for each column of `table` in a freshly migrated database; required
    /// means NOT NULL without a default, so an INSERT must name it.
    async fn schema(db: &Db, table: &str) -> Vec<(String, bool)> {
        let sql = format!(
            "SELECT name, CASE WHEN \"notnull\" = 1 AND dflt_value IS NULL AND pk = 0 THEN 1 ELSE 0 END \
             FROM pragma_table_info('{table}')"
        );
        let rows: Vec<(String, i64)> = sqlx::query_as(&sql).fetch_all(db.reader()).await.unwrap();
        rows.into_iter()
            .map(|(name, required)| (name, required == 1))
            .collect()
    }

    #[tokio::test]
    async fn every_column_list_matches_the_migrated_schema() {
        let dir = std::env::temp_dir().join(format!("accord-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("schema.db").display());
        let db = Db::connect(&url).await.unwrap();
        for (table, columns) in COLUMNS {
            let actual = schema(&db, table).await;
            assert!(
                !actual.is_empty(),
                "{table} is not a table of the migrations"
            );
            for column in *columns {
                assert!(
                    actual.iter().any(|(name, _)| name == column),
                    "{table}.{column} is not in the migrations"
                );
            }
            for (name, required) in &actual {
                assert!(
                    !required || columns.contains(&name.as_str()),
                    "{table}.{name} is required by the migrations but not written"
                );
            }
        }
        db.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
