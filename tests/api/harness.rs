//! The harness itself: what it promises every other test.

use crate::helpers::TestApp;
use crate::smtp::Mode;

async fn invite_while_the_mail_server_is_down(app: &TestApp) {
    let (admin, _) = app.signed_in("morgan@example.com", "Morgan", true).await;
    app.smtp.set_mode(Mode::Down);
    admin
        .post_form(
            "/admin/invitations",
            &[("name", "Sam"), ("email", "sam@example.com")],
        )
        .await;
    app.outbox_settled().await;
}

#[tokio::test]
#[should_panic(expected = "the test left mail undelivered")]
async fn a_test_that_leaves_mail_undelivered_fails() {
    let app = TestApp::spawn().await;
    invite_while_the_mail_server_is_down(&app).await;
}

#[tokio::test]
async fn a_test_may_leave_mail_undelivered_when_it_says_so() {
    let app = TestApp::spawn().await;
    invite_while_the_mail_server_is_down(&app).await;
    let state =
        crate::helpers::count(&app, "SELECT COUNT(*) FROM outbox WHERE state = 'retrying'").await;
    assert_eq!(state, 1);
    app.expect_undelivered_mail();
}
