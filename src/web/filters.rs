//! Every askama filter Accord's templates use, in one place: `use crate::web::filters;` next to a
//! template struct brings them into its scope. Times go through `when`/`when_dated` (in the
//! reader's zone), update texts through `markdown`.

pub use super::markdown::filters::markdown;
pub use super::time::filters::{when, when_dated};
