//! The people picker of the open-escalation form, built to scale to hundreds of users: one
//! searchable list per kind of member (product managers, partners, leadership). Each shows the
//! people picked for it and, below, the people matching its search who are not picked yet — so a
//! person is offered for one kind only. Lead and communicator are chosen among the people of the
//! lists that may hold the role (picked, or shown to be picked); the rules check the choice is
//! also ticked. Without JavaScript a *Find* button re-renders the form; htmx makes the search a
//! typeahead.

use sqlx::AnyConnection;

use crate::accounts::user::{self, User};

/// People offered per list before anyone types a name.
pub const SHOWN: i64 = 8;

/// One kind's list.
pub struct Pick {
    /// The form field of the picked ids ("pms"), and of the search (`find_pms`).
    pub field: &'static str,
    pub legend: &'static str,
    pub query: String,
    pub picked: Vec<User>,
    pub results: Vec<User>,
}

impl Pick {
    pub fn search_field(&self) -> String {
        format!("find_{}", self.field)
    }
}

/// Every list of the form, and the choices for lead and communicator.
pub struct Picker {
    pub picks: Vec<Pick>,
    /// How many people could be picked at all (for "8 of 312 shown").
    pub total: i64,
    /// The opener and the people of the PM list: who may lead.
    pub may_lead: Vec<(i64, String)>,
    /// The opener and the people of the PM and partner lists: who may speak to the customer.
    pub may_communicate: Vec<(i64, String)>,
}

/// What the form says about people: ids per kind and the search per kind.
pub struct Picked<'a> {
    pub me: (i64, &'a str),
    pub pms: &'a [i64],
    pub partners: &'a [i64],
    pub leadership: &'a [i64],
    pub find_pms: &'a str,
    pub find_partners: &'a str,
    pub find_leadership: &'a str,
}

impl Picker {
    pub async fn load(conn: &mut AnyConnection, form: &Picked<'_>) -> sqlx::Result<Picker> {
        let everyone: Vec<i64> = [form.pms, form.partners, form.leadership].concat();
        let picked = user::active_among(conn, &everyone).await?;
        let mut excluded = everyone.clone();
        excluded.push(form.me.0);
        let lists = [
            ("pms", "Product managers", form.pms, form.find_pms),
            ("partners", "Partners", form.partners, form.find_partners),
            (
                "leadership",
                "Leadership (read only)",
                form.leadership,
                form.find_leadership,
            ),
        ];
        let mut picks = Vec::with_capacity(lists.len());
        for (field, legend, ids, query) in lists {
            picks.push(Pick {
                field,
                legend,
                query: query.trim().to_owned(),
                picked: picked
                    .iter()
                    .filter(|u| ids.contains(&u.id))
                    .cloned()
                    .collect(),
                results: user::search_active(conn, query, &excluded, SHOWN).await?,
            });
        }
        // Everyone on the lists that may hold a role, picked first: choosing someone shown but
        // not ticked is refused by the rules with a message, never silently accepted.
        let choices = |lists: &[&Pick]| -> Vec<(i64, String)> {
            let mut choices = vec![(form.me.0, format!("{} (you)", form.me.1))];
            for pick in lists {
                choices.extend(pick.picked.iter().map(|u| (u.id, u.name.clone())));
            }
            for pick in lists {
                choices.extend(pick.results.iter().map(|u| (u.id, u.name.clone())));
            }
            choices
        };
        Ok(Picker {
            may_lead: choices(&[&picks[0]]),
            may_communicate: choices(&[&picks[0], &picks[1]]),
            total: user::count_active(conn).await? - 1,
            picks,
        })
    }
}
