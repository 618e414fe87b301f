//! The open-escalation form's people picker at the size of a company: searchable lists, one kind
//! per person, lead and communicator among the people picked — with and without JavaScript.

use reqwest::StatusCode;

use crate::helpers::{Client, TestApp, count};

/// A company of `n` extra people, "Person 01" … "Person n", plus "Zoe Zimmer".
async fn company(app: &TestApp, n: usize) -> i64 {
    for i in 1..=n {
        app.create_user(
            &format!("person{i:02}@example.com"),
            &format!("Person {i:02}"),
            false,
        )
        .await;
    }
    app.create_user("zoe@example.com", "Zoe Zimmer", false)
        .await
}

#[tokio::test]
async fn the_form_shows_a_few_people_and_finds_anyone_by_name() {
    let app = TestApp::spawn().await;
    let (lee, _) = app.signed_in("lee@example.com", "Lee Park", false).await;
    let zoe = company(&app, 40).await;
    let (status, form) = lee.page("/rooms/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !form.contains("Zoe Zimmer"),
        "not every one of 41 people is listed"
    );
    assert!(form.contains("8 of 41 people shown: type a name to find the others"));

    // Without JavaScript: the Find button shows the form again with the people found.
    let found = lee
        .post_form(
            "/rooms/new",
            &[("find_partners", "zimmer"), ("search", "partners")],
        )
        .await;
    assert_eq!(found.status(), StatusCode::OK);
    let found = found.text().await.unwrap();
    let partners = section(&found, "<legend>Partners</legend>", "</fieldset>");
    assert!(
        partners.contains(&format!("id=\"partners-{zoe}\"")),
        "Zoe is offered as a partner"
    );
    assert!(
        !partners.contains("Person 01"),
        "the search narrows the list: {partners}"
    );
    let pms = section(&found, "<legend>Product managers</legend>", "</fieldset>");
    assert!(
        pms.contains("Person 01"),
        "the other lists keep their own search: {pms}"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM rooms").await,
        0,
        "a search opens nothing"
    );

    // With htmx: the same search as a typeahead returns the picker alone.
    let typed = lee
        .post_form("/rooms/new/people", &[("find_pms", "zoe")])
        .await;
    assert_eq!(typed.status(), StatusCode::OK);
    let typed = typed.text().await.unwrap();
    assert!(
        typed.trim_start().starts_with("<div id=\"people-block\""),
        "{typed}"
    );
    assert!(typed.contains(&format!("id=\"pms-{zoe}\"")));
    assert!(!typed.contains("<html"));
}

#[tokio::test]
async fn a_picked_person_is_offered_for_one_kind_and_roles_come_from_the_lists_that_may_hold_them()
{
    let app = TestApp::spawn().await;
    let (lee, _) = app.signed_in("lee@example.com", "Lee Park", false).await;
    let zoe = company(&app, 3).await;
    let dana = app
        .create_user("dana@example.com", "Dana Whitfield", false)
        .await;
    let (zoe_s, dana_s) = (zoe.to_string(), dana.to_string());
    let picked = lee
        .post_form(
            "/rooms/new",
            &[
                ("pms", dana_s.as_str()),
                ("partners", zoe_s.as_str()),
                ("search", "pms"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(picked.contains(&format!(
        "id=\"pms-{dana}\" name=\"pms\" value=\"{dana}\" checked"
    )));
    assert!(
        !picked.contains(&format!("id=\"partners-{dana}\"")),
        "Dana is a PM, not offered as partner"
    );
    assert!(
        !picked.contains(&format!("id=\"pms-{zoe}\"")),
        "Zoe is a partner, not offered as PM"
    );
    let lead = section(&picked, "id=\"lead\"", "</select>");
    assert!(
        lead.contains("Dana Whitfield") && lead.contains("Lee Park (you)"),
        "{lead}"
    );
    assert!(
        !lead.contains("Zoe Zimmer"),
        "a partner cannot lead: {lead}"
    );
    let communicator = section(&picked, "id=\"communicator\"", "</select>");
    assert!(
        communicator.contains("Zoe Zimmer"),
        "a partner may speak: {communicator}"
    );

    // Choosing a lead who is shown but not ticked is refused, saying why.
    let person = count(&app, "SELECT id FROM users WHERE name = 'Person 01'")
        .await
        .to_string();
    let unticked = open_as_partner(&lee, &[("pms", &dana_s), ("lead", &person)]).await;
    assert_eq!(unticked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unticked
            .text()
            .await
            .unwrap()
            .contains("The lead must be one of the room")
    );

    // The rule holds at the door too: one person named twice is refused.
    let both = open_as_partner(&lee, &[("pms", &dana_s), ("partners", &dana_s)]).await;
    assert_eq!(both.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        both.text()
            .await
            .unwrap()
            .contains("Each person takes part one way")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM rooms").await, 0);
}

/// Opens a room for a new customer as a partner, with `people` (PMs, partners, lead…).
async fn open_as_partner(client: &Client, people: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = vec![
        ("customer", "new"),
        ("new_customer_name", "Northwind"),
        ("title", "T"),
        ("problem", "P"),
        ("severity", "S2"),
        ("escalated_at", "2026-11-20T09:00"),
        ("my_kind", "partner"),
    ];
    fields.extend_from_slice(people);
    client.post_form("/rooms/new", &fields).await
}

fn section<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}
