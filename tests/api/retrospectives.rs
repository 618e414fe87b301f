//! The retrospective: frozen when the room closes, written by the lead, aligned by the PMs on the
//! exact revision, read by every member.

use reqwest::StatusCode;

use crate::helpers::{JORDAN, TestApp};

#[tokio::test]
async fn closing_freezes_a_retrospective_the_lead_writes_and_the_pms_align_on() {
    let app = TestApp::spawn().await;
    let team = app.team().await;
    let room = team.open_northwind().await;
    let jordan = app.contact_id(JORDAN).await;
    for who in [&team.sam.0, &team.lee.0] {
        let logged = who
            .post_form(
                &format!("/rooms/{room}/touches"),
                &[
                    ("contact", &jordan.to_string()),
                    ("channel", "email"),
                    ("summary", "Wrote"),
                ],
            )
            .await;
        assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    }
    let retro = format!("/rooms/{room}/retrospective");
    assert_eq!(
        team.dana.0.page(&retro).await.0,
        StatusCode::NOT_FOUND,
        "none before closing"
    );
    let closed = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/closure"),
            &[("summary", "Forecast shipped")],
        )
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    let (status, page) = team.elena.0.page(&retro).await;
    assert_eq!(status, StatusCode::OK, "leadership reads it");
    assert!(
        page.contains("closed the room: Forecast shipped"),
        "the milestones"
    );
    assert!(page.contains("<th scope=\"row\">Most voices to one contact</th><td>2</td>"));
    assert!(page.contains("<th scope=\"row\">Uncoordinated touches</th><td>2</td>"));
    assert_eq!(team.outsider.0.page(&retro).await.0, StatusCode::NOT_FOUND);

    let fields = [
        ("went_well", "One voice to Jordan after the first week."),
        ("to_change", "Plan calls before making them."),
    ];
    assert_eq!(
        team.sam.0.post_form(&retro, &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        team.elena.0.post_form(&retro, &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        team.dana.0.post_form(&retro, &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    let align = format!("{retro}/alignment");
    assert_eq!(
        team.sam
            .0
            .post_form(&align, &[("revision", "2")])
            .await
            .status(),
        StatusCode::CONFLICT,
        "only the current revision"
    );
    assert_eq!(
        team.lee
            .0
            .post_form(&align, &[("revision", "1")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for pm in [&team.sam.0, &team.dana.0] {
        assert_eq!(
            pm.post_form(&align, &[("revision", "1")]).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let (_, page) = team.ravi.0.page(&retro).await;
    assert!(page.contains("One voice to Jordan after the first week."));
    assert!(page.contains("aligned by every PM"));

    // A new revision makes the alignments stale.
    team.dana.0.post_form(&retro, &fields).await;
    let (_, page) = team.ravi.0.page(&retro).await;
    assert!(page.contains("not yet aligned by every PM"));
    assert!(page.contains("aligned on revision 1, which has since changed"));

    // Frozen: reopening and touching Jordan again does not change it.
    let reopened = team
        .dana
        .0
        .post_form(
            &format!("/rooms/{room}/reopening"),
            &[("summary", "Jordan has a follow-up")],
        )
        .await;
    assert_eq!(reopened.status(), StatusCode::SEE_OTHER);
    team.ravi
        .0
        .post_form(
            &format!("/rooms/{room}/touches"),
            &[
                ("contact", &jordan.to_string()),
                ("channel", "chat"),
                ("summary", "Again"),
            ],
        )
        .await;
    let (_, page) = team.ravi.0.page(&retro).await;
    assert!(page.contains("<th scope=\"row\">Most voices to one contact</th><td>2</td>"));
    assert_eq!(
        team.dana.0.post_form(&retro, &fields).await.status(),
        StatusCode::CONFLICT,
        "written while closed"
    );
}
