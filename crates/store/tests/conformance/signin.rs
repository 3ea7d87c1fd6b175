//! Sign-in tables: request counts by address and IP, single-use secrets (a race uses a
//! secret once; an expired one cannot be used), wrong-code counting, sessions (touch,
//! revoke once), the accounts of an address, and the sealed mail body cleared on settle.

use refshare_store::{NotificationRecord, SessionRecord, SigninTokenRecord, Store};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

const MINUTE: i64 = 60 * SECOND;

fn token(email_key: &str, secret_hash: &str, created_ms: i64) -> SigninTokenRecord {
    SigninTokenRecord {
        id: Uuid::new_v4(),
        email: email_key.to_uppercase(),
        email_key: email_key.into(),
        secret_hash: secret_hash.into(),
        code_hash: format!("code-of-{secret_hash}"),
        created_at: t(created_ms),
        expires_at: t(created_ms + 15 * MINUTE),
        used_at: None,
        failed_codes: 0,
        return_to: None,
    }
}

conformance!(signin_requests_are_counted_by_address_and_ip);
async fn signin_requests_are_counted_by_address_and_ip(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    tx.insert_signin_request("ann@acme.test", "10.0.0.1", t(0)).await?;
    tx.insert_signin_request("ann@acme.test", "10.0.0.2", t(MINUTE)).await?;
    tx.insert_signin_request("bob@acme.test", "10.0.0.1", t(2 * MINUTE)).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.signin_requests_for_email("ann@acme.test", t(0)).await?, 2);
    assert_eq!(tx.signin_requests_for_email("ann@acme.test", t(1)).await?, 1, "from `since` on");
    assert_eq!(tx.signin_requests_for_email("carl@acme.test", t(0)).await?, 0);
    assert_eq!(tx.signin_requests_from_ip("10.0.0.1", t(0)).await?, 2);
    assert_eq!(tx.signin_requests_from_ip("10.0.0.1", t(2 * MINUTE)).await?, 1, "`since` is inclusive");
    Ok(())
}

conformance!(signin_secrets_are_used_once_and_expire);
async fn signin_secrets_are_used_once_and_expire(store: Store) -> TestResult {
    let first = token("ann@acme.test", "h1", 0);
    let second = SigninTokenRecord { return_to: Some("/link-requests/abc".into()), ..token("ann@acme.test", "h2", MINUTE) };
    let mut tx = store.begin().await?;
    tx.insert_signin_token(&first).await?;
    tx.insert_signin_token(&second).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_signin_token(&token("bob@acme.test", "h1", 0)).await);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.signin_token_by_secret_hash("h1").await?, Some(first.clone()));
    assert_eq!(tx.signin_token_by_secret_hash("h2").await?, Some(second.clone()), "with its return-to");
    assert_eq!(tx.signin_token_by_secret_hash("nope").await?, None);
    let live = tx.live_signin_tokens("ann@acme.test", t(2 * MINUTE)).await?;
    assert_eq!(live.iter().map(|t| t.secret_hash.as_str()).collect::<Vec<_>>(), ["h2", "h1"], "newest first");
    assert!(tx.use_signin_token(first.id, t(2 * MINUTE)).await?);
    assert!(!tx.use_signin_token(first.id, t(3 * MINUTE)).await?, "used once");
    assert!(!tx.use_signin_token(second.id, t(16 * MINUTE)).await?, "expired");
    tx.count_failed_signin_code("ann@acme.test", t(2 * MINUTE)).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let used = tx.signin_token_by_secret_hash("h1").await?.unwrap();
    assert_eq!((used.used_at, used.failed_codes), (Some(t(2 * MINUTE)), 0), "a used secret counts no wrong codes");
    let live = tx.live_signin_tokens("ann@acme.test", t(2 * MINUTE)).await?;
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].failed_codes, 1);
    assert!(tx.live_signin_tokens("ann@acme.test", t(16 * MINUTE)).await?.is_empty());
    Ok(())
}

conformance!(sessions_are_touched_and_revoked_once);
async fn sessions_are_touched_and_revoked_once(store: Store) -> TestResult {
    let s = SessionRecord {
        id_hash: "sess-hash".into(),
        email: "Ann@Acme.test".into(),
        email_key: "ann@acme.test".into(),
        verified_by: "link".into(),
        created_at: t(0),
        last_seen_at: t(0),
        revoked_at: None,
        account_kind: None,
        account_id: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_session(&s).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_session(&s).await);
    drop(tx);
    let mut tx = store.begin().await?;
    tx.touch_session("sess-hash", t(MINUTE)).await?;
    assert_eq!(tx.session("sess-hash").await?.unwrap().last_seen_at, t(MINUTE));
    assert!(tx.revoke_session("sess-hash", t(2 * MINUTE)).await?);
    assert!(!tx.revoke_session("sess-hash", t(3 * MINUTE)).await?, "revoked once");
    assert!(!tx.revoke_session("other", t(3 * MINUTE)).await?);
    let chosen = Uuid::new_v4();
    assert!(!tx.choose_session_account("sess-hash", "operator", chosen).await?, "a revoked session chooses nothing");
    tx.touch_session("sess-hash", t(4 * MINUTE)).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let got = tx.session("sess-hash").await?.unwrap();
    assert_eq!((got.revoked_at, got.last_seen_at), (Some(t(2 * MINUTE)), t(MINUTE)), "a revoked session is not touched");
    assert_eq!(tx.session("missing").await?, None);
    assert_eq!((got.account_kind, got.account_id), (None, None));
    Ok(())
}

conformance!(a_session_keeps_the_chosen_account);
async fn a_session_keeps_the_chosen_account(store: Store) -> TestResult {
    let s = SessionRecord {
        id_hash: "sess-chosen".into(),
        email: "ann@acme.test".into(),
        email_key: "ann@acme.test".into(),
        verified_by: "code".into(),
        created_at: t(0),
        last_seen_at: t(0),
        revoked_at: None,
        account_kind: Some("client_user".into()),
        account_id: Some(Uuid::new_v4()),
    };
    let mut tx = store.begin().await?;
    tx.insert_session(&s).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.session("sess-chosen").await?, Some(s.clone()), "stored as inserted");
    let op = Uuid::new_v4();
    assert!(tx.choose_session_account("sess-chosen", "operator", op).await?);
    assert!(!tx.choose_session_account("nope", "operator", op).await?);
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let got = tx.session("sess-chosen").await?.unwrap();
    assert_eq!((got.account_kind.as_deref(), got.account_id), (Some("operator"), Some(op)));
    Ok(())
}

conformance!(an_address_finds_its_client_users);
async fn an_address_finds_its_client_users(store: Store) -> TestResult {
    let acme = client("Acme Ltd", t(0));
    let beta = client("Beta AB", t(0));
    let mut tx = store.begin().await?;
    tx.insert_client(&acme, &[user(&acme, "Ann@Acme.test", true)]).await?;
    tx.insert_client(&beta, &[user(&beta, "ann@acme.test", false), user(&beta, "bob@beta.test", true)]).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let found = tx.client_user_accounts("ann@acme.test").await?;
    assert_eq!(
        found.iter().map(|a| (a.company_name.as_str(), a.client_id)).collect::<Vec<_>>(),
        [("Acme Ltd", acme.id), ("Beta AB", beta.id)]
    );
    assert!(tx.client_user_accounts("nobody@acme.test").await?.is_empty());
    Ok(())
}

conformance!(a_sign_in_activates_the_users_and_disabled_ones_stay_out);
async fn a_sign_in_activates_the_users_and_disabled_ones_stay_out(store: Store) -> TestResult {
    use refshare_core::people::{OperatorRole, PartnerRole, PersonStatus};
    use refshare_store::{OperatorRecord, PartnerUserRecord};
    let acme = client("Acme Ltd", t(0));
    let beta = client("Beta AB", t(0));
    let off = refshare_store::ClientUserRecord { status: PersonStatus::Disabled, ..user(&beta, "ann@acme.test", false) };
    let (ledgerly, bookwise) = (partner("Ledgerly", t(0)), partner("Bookwise", t(0)));
    let partner_user = |p: &refshare_store::PartnerRecord, email: &str, role, status| PartnerUserRecord {
        id: Uuid::new_v4(),
        partner_id: p.id,
        email: email.into(),
        name: format!("Name of {email}"),
        role,
        status,
        last_sign_in_at: None,
        created_at: t(0),
    };
    let ann_at_ledgerly = partner_user(&ledgerly, "Ann@Acme.test", PartnerRole::Admin, PersonStatus::Invited);
    let ann_at_bookwise = partner_user(&bookwise, "ann@acme.test", PartnerRole::Member, PersonStatus::Disabled);
    let bob_at_ledgerly = partner_user(&ledgerly, "bob@beta.test", PartnerRole::Member, PersonStatus::Invited);
    let operator = |email: &str, status| OperatorRecord {
        id: Uuid::new_v4(),
        email: email.into(),
        name: format!("Name of {email}"),
        role: OperatorRole::Viewer,
        status,
        last_sign_in_at: None,
        created_at: t(0),
    };
    let ann_op = operator("ann@acme.test", PersonStatus::Invited);
    let carl_op = operator("carl@acme.test", PersonStatus::Disabled);
    let mut tx = store.begin().await?;
    tx.insert_client(&acme, &[user(&acme, "ann@acme.test", true)]).await?;
    tx.insert_client(&beta, &[off, user(&beta, "bob@beta.test", true)]).await?;
    tx.insert_partner(&ledgerly).await?;
    tx.insert_partner(&bookwise).await?;
    for u in [&ann_at_ledgerly, &ann_at_bookwise, &bob_at_ledgerly] {
        tx.insert_partner_user(u).await?;
    }
    tx.insert_operator(&ann_op).await?;
    tx.insert_operator(&carl_op).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let found = tx.client_user_accounts("ann@acme.test").await?;
    assert_eq!(found.iter().map(|a| a.client_id).collect::<Vec<_>>(), [acme.id], "a disabled user is no account");
    let partners = tx.partner_user_accounts("ann@acme.test").await?;
    assert_eq!(
        partners.iter().map(|a| (a.user_id, a.partner_name.as_str(), a.role)).collect::<Vec<_>>(),
        [(ann_at_ledgerly.id, "Ledgerly", PartnerRole::Admin)],
        "the disabled partner user is no account"
    );
    let op = tx.operator_account("ann@acme.test").await?.expect("ann is an operator");
    assert_eq!((op.operator_id, op.role), (ann_op.id, OperatorRole::Viewer));
    assert_eq!(tx.operator_account("carl@acme.test").await?, None, "a disabled operator is no account");
    assert_eq!(tx.record_sign_in("ann@acme.test", t(MINUTE)).await?, 3, "one client user, one partner user, one operator");
    assert_eq!(tx.record_sign_in("carl@acme.test", t(MINUTE)).await?, 0);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let ann = tx.client_users(acme.id).await?.remove(0);
    assert_eq!((ann.status, ann.last_sign_in_at), (PersonStatus::Active, Some(t(MINUTE))));
    let beta_users = tx.client_users(beta.id).await?;
    let disabled = beta_users.iter().find(|u| u.email == "ann@acme.test").expect("still there");
    assert_eq!((disabled.status, disabled.last_sign_in_at), (PersonStatus::Disabled, None));
    let bob = beta_users.iter().find(|u| u.email == "bob@beta.test").expect("bob");
    assert_eq!(bob.status, PersonStatus::Invited, "only the signed-in address changes");
    let got = tx.partner_user(ledgerly.id, ann_at_ledgerly.id).await?.unwrap();
    assert_eq!((got.status, got.last_sign_in_at), (PersonStatus::Active, Some(t(MINUTE))));
    let got = tx.partner_user(bookwise.id, ann_at_bookwise.id).await?.unwrap();
    assert_eq!((got.status, got.last_sign_in_at), (PersonStatus::Disabled, None));
    assert_eq!(tx.partner_user(ledgerly.id, bob_at_ledgerly.id).await?.unwrap().status, PersonStatus::Invited);
    let got = tx.operator(ann_op.id).await?.unwrap();
    assert_eq!((got.status, got.last_sign_in_at), (PersonStatus::Active, Some(t(MINUTE))));
    let got = tx.operator(carl_op.id).await?.unwrap();
    assert_eq!((got.status, got.last_sign_in_at), (PersonStatus::Disabled, None));
    Ok(())
}

conformance!(a_sealed_mail_body_is_cleared_when_settled);
async fn a_sealed_mail_body_is_cleared_when_settled(store: Store) -> TestResult {
    let n = NotificationRecord {
        id: Uuid::new_v4(),
        kind: "sign_in".into(),
        to_addr: "ann@acme.test".into(),
        subject: "Your sign-in link".into(),
        body: "Sign in: https://x/login/********".into(),
        related_id: None,
        status: "queued".into(),
        error: None,
        created_at: t(0),
        sent_at: None,
        attempts: 0,
        next_attempt_at: Some(t(0)),
        sealed_body: Some("sealed:v1:abc".into()),
    };
    let mut tx = store.begin().await?;
    tx.insert_notification(&n).await?;
    let claimed = tx.claim_due_notifications(t(0), t(MINUTE), 5).await?;
    assert_eq!(claimed[0].sealed_body.as_deref(), Some("sealed:v1:abc"), "the mailer reads the sealed text");
    let settled = NotificationRecord { status: "outbox".into(), next_attempt_at: None, sealed_body: None, ..claimed[0].clone() };
    assert!(tx.settle_notification(&settled, t(MINUTE)).await?);
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let stored = tx.notifications(Some("ann@acme.test"), None, 10).await?;
    assert_eq!((stored[0].status.as_str(), stored[0].sealed_body.as_deref()), ("outbox", None));
    Ok(())
}

conformance!(old_signin_rows_are_pruned);
async fn old_signin_rows_are_pruned(store: Store) -> TestResult {
    let old = token("ann@acme.test", "old", 0);
    let new = token("ann@acme.test", "new", 60 * MINUTE);
    let session = |hash: &str, created_ms: i64| SessionRecord {
        id_hash: hash.into(),
        email: "ann@acme.test".into(),
        email_key: "ann@acme.test".into(),
        verified_by: "code".into(),
        created_at: t(created_ms),
        last_seen_at: t(created_ms),
        revoked_at: None,
        account_kind: None,
        account_id: None,
    };
    let mut tx = store.begin().await?;
    tx.insert_signin_token(&old).await?;
    tx.insert_signin_token(&new).await?;
    tx.insert_signin_request("ann@acme.test", "10.0.0.1", t(0)).await?;
    tx.insert_signin_request("ann@acme.test", "10.0.0.1", t(30 * MINUTE)).await?;
    tx.insert_session(&session("s-old", 0)).await?;
    tx.insert_session(&session("s-new", 30 * MINUTE)).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    // Before 30 minutes: the first request, the session created at 0, and the secret that
    // expired at 15 minutes go.
    assert_eq!(tx.prune_signin(t(30 * MINUTE)).await?, 3);
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.signin_requests_for_email("ann@acme.test", t(0)).await?, 1);
    assert_eq!(tx.signin_token_by_secret_hash("old").await?, None);
    assert!(tx.signin_token_by_secret_hash("new").await?.is_some());
    assert_eq!(tx.session("s-old").await?, None);
    assert!(tx.session("s-new").await?.is_some());
    Ok(())
}
