//! The question ledger: a similar question is shown before it is asked again.

use reqwest::StatusCode;

use crate::helpers::{TestApp, count};

#[tokio::test]
async fn a_similar_question_is_shown_and_asking_anyway_is_recorded() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let first_room = team.open_northwind().await;
    let jordan = count(&app, "SELECT id FROM contacts").await;
    let stakeholder = format!("contact:{jordan}");
    let ask = |client: &'static str,
               room: i64,
               body: &'static str,
               extra: Vec<(&'static str, String)>| {
        let stakeholder = stakeholder.clone();
        let client = if client == "sam" {
            &team.sam.0
        } else {
            &team.dana.0
        };
        async move {
            let mut fields = vec![("body", body.to_owned()), ("stakeholder", stakeholder)];
            fields.extend(extra);
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client
                .post_form(&format!("/rooms/{room}/questions"), &fields)
                .await
        }
    };
    let asked = ask(
        "dana",
        first_room,
        "When do you plan to buy more capacity?",
        vec![],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let first_question = count(&app, "SELECT id FROM questions").await;
    team.dana
        .0
        .post_form(
            &format!("/rooms/{first_room}/questions/{first_question}/answer"),
            &[("answer", "Next order window closes 15 January.")],
        )
        .await;

    // A second room for the same customer: Sam is about to ask nearly the same thing.
    let customer = count(&app, "SELECT id FROM customers").await;
    let second_room = team.open_another_for(customer).await;
    let held = ask(
        "sam",
        second_room,
        "When are you planning to order more capacity?",
        vec![],
    )
    .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    let html = held.text().await.unwrap();
    assert!(html.contains("“When do you plan to buy more capacity?”"));
    assert!(html.contains("Asked by Dana Whitfield"));
    assert!(html.contains("Answer: Next order window closes 15 January."));
    assert!(
        html.contains("aria-describedby=\"confirm-error\" autofocus"),
        "the refusal puts focus on the checkbox: {html}"
    );
    assert!(html.contains("then tick this box to record yours anyway"));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM questions").await, 1);

    let unrelated = ask(
        "sam",
        second_room,
        "Who receives the weekly status email?",
        vec![],
    )
    .await;
    assert_eq!(unrelated.status(), StatusCode::SEE_OTHER);

    let confirmed = vec![
        ("acknowledged", first_question.to_string()),
        ("confirm", "yes".to_owned()),
    ];
    let anyway = ask(
        "sam",
        second_room,
        "When are you planning to order more capacity?",
        confirmed,
    )
    .await;
    assert_eq!(anyway.status(), StatusCode::SEE_OTHER);
    let sql = format!("SELECT COUNT(*) FROM questions WHERE asked_despite = '{first_question}'");
    assert_eq!(count(&app, &sql).await, 1);
    let (_, timeline) = team
        .sam
        .0
        .page(&format!("/rooms/{second_room}?category=questions"))
        .await;
    assert!(timeline.contains(&format!(
        "asked anyway, after seeing 1 similar question (#{first_question})"
    )));

    let (_, live_check) = team
        .sam
        .0
        .page(&format!(
            "/rooms/{second_room}/questions/new?body=When+will+you+purchase+more+capacity"
        ))
        .await;
    assert!(live_check.contains("Already asked?"));
}

/// The stored terms of every question, in question order.
async fn stored_terms(app: &TestApp) -> Vec<String> {
    let db = app.db().await;
    let terms = sqlx::query_scalar("SELECT terms FROM questions ORDER BY id")
        .fetch_all(db.reader())
        .await
        .unwrap();
    db.close().await;
    terms
}

#[tokio::test]
async fn stored_terms_are_rebuilt_when_the_similarity_rules_change() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let asked = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/questions"),
            &[
                ("body", "When are you planning to order more capacity?"),
                ("stakeholder", "internal"),
                ("internal_name", "Finance"),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_terms(&app).await, ["buy capacity plan"]);
    // As if older rules had built the terms.
    let db = app.db().await;
    for sql in [
        "UPDATE questions SET terms = 'order capacity planning'",
        "DELETE FROM question_terms",
        "UPDATE app_meta SET value = 'older-rules' WHERE key = 'question_terms'",
    ] {
        sqlx::query(sql).execute(db.writer()).await.unwrap();
    }
    db.close().await;

    let app = app.restart().await;
    assert_eq!(stored_terms(&app).await, ["buy capacity plan"]);
    let indexed = "SELECT COUNT(*) FROM question_terms WHERE term IN ('buy', 'capacity', 'plan')";
    assert_eq!(count(&app, indexed).await, 3);
}
