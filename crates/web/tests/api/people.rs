//! People (issue 8, first slice): the operator adds partner users (with an invitation
//! e-mail), lists and removes them, and adds operators. E-mail is unique per kind and
//! tenant, compared case-insensitively; another partner's user is 404.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{client_body, Resp, TestApp};

crate::both_backends!(
    partner_users_are_invited_listed_and_removed,
    partner_user_input_is_checked,
    operators_are_added_listed_and_unique,
    a_new_client_cannot_name_one_address_twice,
    partner_users_change_role_and_status,
    operators_change_role_and_status,
);

fn fields(r: &Resp) -> Vec<String> {
    r.body["businessErrors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap_or_default().to_string()).collect()
}

async fn audit_actions(t: &TestApp, entity: &str, id: &str, action: &str) -> Vec<Value> {
    let r = t.admin("GET", &format!("/audit?entity={entity}&id={id}&action={action}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["entries"].as_array().unwrap().clone()
}

async fn invitations(t: &TestApp, to: &str) -> Vec<Value> {
    let r = t.admin("GET", &format!("/notifications?to={to}&kind=partner_user_invitation"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["notifications"].as_array().unwrap().clone()
}

async fn partner_users_are_invited_listed_and_removed(t: TestApp) {
    let (p1, _) = t.new_partner("Ledgerly").await;
    let (p2, _) = t.new_partner("Bookwise").await;

    let r = t
        .admin(
            "POST",
            &format!("/partners/{p1}/users"),
            Some(json!({"email": " Ann@Ledgerly.Test ", "name": "Ann Admin", "role": "admin"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann = r.body.clone();
    assert_eq!(
        (&ann["partnerId"], &ann["email"], &ann["name"], &ann["role"], &ann["status"], &ann["lastSignInAt"]),
        (&json!(p1), &json!("ann@ledgerly.test"), &json!("Ann Admin"), &json!("admin"), &json!("invited"), &Value::Null),
        "{ann}"
    );

    // The invitation e-mail names the partner and where they will sign in.
    let mail = invitations(&t, "ann@ledgerly.test").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0]["subject"].as_str().unwrap().contains("Ledgerly"), "{}", mail[0]);
    assert!(mail[0]["body"].as_str().unwrap().contains("http://refshare.test/login"), "{}", mail[0]);
    assert_eq!(mail[0]["relatedId"], ann["id"]);

    // Same address, other case, same partner: 409 with a typed error, no second mail.
    let r = t
        .admin("POST", &format!("/partners/{p1}/users"), Some(json!({"email": "ANN@ledgerly.test", "name": "Ann Again", "role": "member"})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!((&r.body["error"], &r.body["businessErrors"][0]["type"]), (&json!("Conflict"), &json!("UserExists")), "{}", r.text);
    assert_eq!(invitations(&t, "ann@ledgerly.test").await.len(), 1);

    // The same person may also work for another partner.
    let r = t
        .admin("POST", &format!("/partners/{p2}/users"), Some(json!({"email": "ann@ledgerly.test", "name": "Ann", "role": "member"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let ann_at_p2 = r.body["id"].as_str().unwrap().to_string();

    let r = t
        .admin("POST", &format!("/partners/{p1}/users"), Some(json!({"email": "bob@ledgerly.test", "name": "Bob", "role": "member"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // Listing: the partner's users only, oldest first, paged.
    let r = t.admin("GET", &format!("/partners/{p1}/users"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let emails: Vec<&str> = r.body["users"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ann@ledgerly.test", "bob@ledgerly.test"]);
    assert_eq!(r.body["page"]["totalResults"], 2);
    let r = t.admin("GET", &format!("/partners/{p1}/users?Page=2&PageSize=1"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["users"][0]["email"].as_str(), &r.body["page"]["totalPages"]), (Some("bob@ledgerly.test"), &json!(2)));

    // Another partner's user is 404 and stays; so are unknown ids and partners.
    let r = t.admin("DELETE", &format!("/partners/{p1}/users/{ann_at_p2}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = t.admin("DELETE", &format!("/partners/{p1}/users/not-a-uuid"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let unknown = uuid::Uuid::new_v4();
    for r in [
        t.admin("GET", &format!("/partners/{unknown}/users"), None).await,
        t.admin("POST", &format!("/partners/{unknown}/users"), Some(json!({"email": "x@y.test", "name": "X", "role": "member"}))).await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
    assert_eq!(t.admin("GET", &format!("/partners/{p2}/users"), None).await.body["page"]["totalResults"], 1);

    let ann_id = ann["id"].as_str().unwrap();
    let r = t.admin("DELETE", &format!("/partners/{p1}/users/{ann_id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = t.admin("DELETE", &format!("/partners/{p1}/users/{ann_id}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "removed once: {}", r.text);
    let r = t.admin("GET", &format!("/partners/{p1}/users"), None).await;
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1, "{}", r.text);

    // Audited like other operator actions.
    let added = audit_actions(&t, "partner", &p1, "partner.user_added").await;
    assert_eq!(added.len(), 2, "{added:?}");
    assert_eq!(
        (&added[0]["actor"], &added[0]["detail"]["email"], &added[0]["detail"]["role"]),
        (&json!("operator"), &json!("ann@ledgerly.test"), &json!("admin"))
    );
    let removed = audit_actions(&t, "partner", &p1, "partner.user_removed").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["detail"]["userId"], ann["id"]);
}

async fn partner_user_input_is_checked(t: TestApp) {
    let (p, _) = t.new_partner("Ledgerly").await;
    let path = format!("/partners/{p}/users");
    let r = t.admin("POST", &path, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["email", "name", "role"], "{}", r.text);

    let r = t.admin("POST", &path, Some(json!({"email": "not-an-address", "name": " ", "role": "owner"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["email", "name", "role"], "{}", r.text);
    assert!(r.text.contains("`admin` or `member`"), "{}", r.text);

    // Unknown properties are refused on the Operator API.
    let r = t.admin("POST", &path, Some(json!({"email": "ann@ledgerly.test", "name": "Ann", "role": "member", "isOwner": true}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("isOwner"), "{}", r.text);

    let r = t.admin("GET", &path, None).await;
    assert_eq!(r.body["page"]["totalResults"], 0, "nothing was stored: {}", r.text);
    assert!(invitations(&t, "ann@ledgerly.test").await.is_empty(), "no mail for a refused request");
}

async fn operators_are_added_listed_and_unique(t: TestApp) {
    let r = t.admin("POST", "/operators", Some(json!({"email": "Vera@Platform.test", "name": "Vera Viewer"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        (&r.body["email"], &r.body["role"], &r.body["status"], &r.body["lastSignInAt"]),
        (&json!("vera@platform.test"), &json!("viewer"), &json!("invited"), &Value::Null),
        "role defaults to viewer: {}",
        r.text
    );
    let vera = r.body["id"].as_str().unwrap().to_string();
    let r = t.admin("POST", "/operators", Some(json!({"email": "ada@platform.test", "name": "Ada Admin", "role": "admin"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["role"], "admin");

    let r = t.admin("POST", "/operators", Some(json!({"email": "VERA@platform.TEST", "name": "Vera Again"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["businessErrors"][0]["type"], "UserExists", "{}", r.text);

    let r = t.admin("POST", "/operators", Some(json!({"email": "max@platform.test", "name": "Max", "role": "member"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["role"], "{}", r.text);
    let r = t.admin("POST", "/operators", Some(json!({"email": "max@platform.test", "name": "Max", "superuser": true}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("superuser"), "{}", r.text);

    let r = t.admin("GET", "/operators", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let emails: Vec<&str> = r.body["operators"].as_array().unwrap().iter().map(|o| o["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["vera@platform.test", "ada@platform.test"]);
    let r = t.admin("GET", "/operators?PageSize=1", None).await;
    assert_eq!((r.body["operators"].as_array().unwrap().len(), &r.body["page"]["totalResults"]), (1, &json!(2)), "{}", r.text);

    let created = audit_actions(&t, "operator", &vera, "operator.created").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!((&created[0]["actor"], &created[0]["detail"]["role"]), (&json!("operator"), &json!("viewer")));

    // Only the operator token may add operators.
    let r = t.call("POST", "/admin-api/v1/operators", &[], Some(json!({"email": "eve@evil.test", "name": "Eve"}))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
}

async fn a_new_client_cannot_name_one_address_twice(t: TestApp) {
    let (_, key) = t.new_partner("Ledgerly").await;
    let mut body = client_body("acme", "Acme Ltd", "ann@acme.test", vec![]);
    body["users"] = json!([
        {"name": "Ann", "email": "ann@acme.test", "isOnboardingUser": true},
        {"name": "Ann Again", "email": "ANN@acme.test", "isOnboardingUser": false},
    ]);
    let r = t.partner(&key, "POST", "/clients", Some(body)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["users[1].email"], "{}", r.text);
}

async fn partner_users_change_role_and_status(t: TestApp) {
    let (p1, _) = t.new_partner("Ledgerly").await;
    let (p2, _) = t.new_partner("Bookwise").await;
    let r = t
        .admin("POST", &format!("/partners/{p1}/users"), Some(json!({"email": "ann@ledgerly.test", "name": "Ann", "role": "member"})))
        .await;
    let uid = r.body["id"].as_str().unwrap().to_string();
    let path = format!("/partners/{p1}/users/{uid}");

    let r = t.admin("PATCH", &path, Some(json!({"role": "admin"}))).await;
    assert_eq!((r.status, &r.body["role"], &r.body["status"]), (StatusCode::OK, &json!("admin"), &json!("invited")), "{}", r.text);
    let r = t.admin("PATCH", &path, Some(json!({"status": "disabled"}))).await;
    assert_eq!((&r.body["role"], &r.body["status"]), (&json!("admin"), &json!("disabled")), "{}", r.text);
    let r = t.admin("GET", &format!("/partners/{p1}/users"), None).await;
    assert_eq!(r.body["users"][0]["status"], "disabled", "stored: {}", r.text);

    // Bad input, each field named; unknown properties refused; nothing changes.
    let r = t.admin("PATCH", &path, Some(json!({"role": "owner", "status": "invited"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["role", "status"]);
    let r = t.admin("PATCH", &path, Some(json!({"status": "active", "email": "x@y.test"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    // Another partner's user, or an unknown one: 404, nothing changes.
    let r = t.admin("PATCH", &format!("/partners/{p2}/users/{uid}"), Some(json!({"status": "active"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = t.admin("PATCH", &format!("/partners/{p1}/users/{}", uuid::Uuid::new_v4()), Some(json!({"status": "active"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = t.admin("GET", &format!("/partners/{p1}/users"), None).await;
    assert_eq!(r.body["users"][0]["status"], "disabled", "{}", r.text);

    // Re-enabled without ever signing in: `invited`. A change to nothing is not audited.
    let r = t.admin("PATCH", &path, Some(json!({"status": "active"}))).await;
    assert_eq!(r.body["status"], "invited", "{}", r.text);
    let r = t.admin("PATCH", &path, Some(json!({"status": "active", "role": "admin"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entries = audit_actions(&t, "partner", &p1, "partner.user_changed").await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[1]["detail"]["from"], json!({"role": "admin", "status": "invited"}));
    assert_eq!(entries[1]["detail"]["to"], json!({"role": "admin", "status": "disabled"}));
    assert_eq!((&entries[1]["actor"], &entries[1]["detail"]["userId"]), (&json!("operator"), &json!(uid)));
}

async fn operators_change_role_and_status(t: TestApp) {
    let r = t.admin("POST", "/operators", Some(json!({"email": "vera@platform.test", "name": "Vera"}))).await;
    let oid = r.body["id"].as_str().unwrap().to_string();
    let r = t.admin("PATCH", &format!("/operators/{oid}"), Some(json!({"role": "admin", "status": "disabled"}))).await;
    assert_eq!((r.status, &r.body["role"], &r.body["status"]), (StatusCode::OK, &json!("admin"), &json!("disabled")), "{}", r.text);
    let r = t.admin("GET", "/operators", None).await;
    assert_eq!((&r.body["operators"][0]["role"], &r.body["operators"][0]["status"]), (&json!("admin"), &json!("disabled")));
    let r = t.admin("PATCH", &format!("/operators/{oid}"), Some(json!({"role": "member"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(fields(&r), ["role"]);
    let r = t.admin("PATCH", &format!("/operators/{}", uuid::Uuid::new_v4()), Some(json!({"status": "active"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = t.admin("PATCH", "/operators/not-a-uuid", Some(json!({"status": "active"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = t.admin("PATCH", &format!("/operators/{oid}"), Some(json!({"status": "active"}))).await;
    assert_eq!(r.body["status"], "invited", "never signed in: {}", r.text);
    let entries = audit_actions(&t, "operator", &oid, "operator.changed").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0]["detail"]["to"], json!({"role": "admin", "status": "disabled"}));
}
