//! Rebuilding the stored question terms (`questions.terms`, `question_terms`) when the similarity
//! rules change: by `accord reindex`, and at start whenever the stored terms were built by other
//! rules than this binary's ([`similarity::VERSION`]). Each room is rebuilt in its own short
//! transaction, which bumps its version like any change.

use super::model;
use super::similarity;
use crate::clock::Millis;
use crate::db::Db;
use crate::rooms::change::RoomTx;

/// Rebuilds every question's terms; returns how many questions.
pub async fn reindex(db: &Db, now: Millis) -> anyhow::Result<usize> {
    let mut conn = db.reader().acquire().await?;
    let rooms = model::rooms_with_questions(&mut conn).await?;
    drop(conn);
    let mut rebuilt = 0;
    for room_id in rooms {
        let mut tx = RoomTx::begin(db, [room_id], now).await?;
        rebuilt += model::reindex_room(&mut tx, room_id).await?;
        tx.commit().await?;
    }
    let mut tx = db.begin_write().await?;
    model::set_terms_version(&mut tx, similarity::VERSION).await?;
    tx.commit().await?;
    Ok(rebuilt)
}

/// Rebuilds the terms if they were built by other rules; `None` when they are current.
pub async fn reindex_if_changed(db: &Db, now: Millis) -> anyhow::Result<Option<usize>> {
    let mut conn = db.reader().acquire().await?;
    let stored = model::terms_version(&mut conn).await?;
    drop(conn);
    if stored.as_deref() == Some(similarity::VERSION) {
        return Ok(None);
    }
    reindex(db, now).await.map(Some)
}
