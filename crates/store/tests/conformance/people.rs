//! People (issue 8): partner users and operators, and the status of client users. E-mail
//! is unique per kind and tenant, compared case-insensitively, on both backends.

use refshare_core::people::{OperatorRole, PartnerRole, PersonStatus};
use refshare_store::{ClientUserRecord, OperatorRecord, PageReq, PartnerUserRecord, Store};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

fn partner_user(partner_id: Uuid, email: &str, role: PartnerRole, created_at: refshare_core::Instant) -> PartnerUserRecord {
    PartnerUserRecord {
        id: Uuid::new_v4(),
        partner_id,
        email: email.into(),
        name: format!("Name of {email}"),
        role,
        status: PersonStatus::Invited,
        last_sign_in_at: None,
        created_at,
    }
}

fn operator(email: &str, role: OperatorRole, created_at: refshare_core::Instant) -> OperatorRecord {
    OperatorRecord {
        id: Uuid::new_v4(),
        email: email.into(),
        name: format!("Name of {email}"),
        role,
        status: PersonStatus::Invited,
        last_sign_in_at: None,
        created_at,
    }
}

const ALL: PageReq = PageReq { page: 1, size: 100 };

conformance!(partner_users_are_unique_per_partner_and_stay_with_it);
async fn partner_users_are_unique_per_partner_and_stay_with_it(store: Store) -> TestResult {
    let (p1, p2) = (partner("One", t(0)), partner("Two", t(0)));
    let ann = partner_user(p1.id, "Ann@Team.example", PartnerRole::Admin, t(SECOND));
    let bob = PartnerUserRecord {
        status: PersonStatus::Active,
        last_sign_in_at: Some(t(HOUR)),
        ..partner_user(p1.id, "bob@team.example", PartnerRole::Member, t(2 * SECOND))
    };
    let ann_at_two = partner_user(p2.id, "ann@team.example", PartnerRole::Member, t(3 * SECOND));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p1).await?;
    tx.insert_partner(&p2).await?;
    tx.insert_partner_user(&ann).await?;
    tx.insert_partner_user(&bob).await?;
    tx.insert_partner_user(&ann_at_two).await?; // the same person at another partner
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_partner_user(&partner_user(p1.id, "ANN@team.EXAMPLE", PartnerRole::Member, t(HOUR))).await);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner_users_page(p1.id, ALL).await?, (vec![ann.clone(), bob.clone()], 2), "oldest first, as stored");
    assert_eq!(tx.partner_users_page(p1.id, PageReq { page: 2, size: 1 }).await?, (vec![bob.clone()], 2));
    assert_eq!(tx.partner_users_page(p2.id, ALL).await?, (vec![ann_at_two.clone()], 1));
    assert_eq!(tx.partner_user(p1.id, ann.id).await?, Some(ann.clone()));
    assert_eq!(tx.partner_user(p2.id, ann.id).await?, None, "another partner's user is not found");
    assert!(!tx.delete_partner_user(p2.id, ann.id).await?, "another partner cannot remove it");
    assert!(tx.delete_partner_user(p1.id, ann.id).await?);
    assert!(!tx.delete_partner_user(p1.id, ann.id).await?, "removed once");
    // The address is free again at that partner.
    let again = partner_user(p1.id, "ann@team.example", PartnerRole::Member, t(DAY));
    tx.insert_partner_user(&again).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner_users_page(p1.id, ALL).await?, (vec![bob, again], 2));
    assert_eq!(tx.partner_users_page(p2.id, ALL).await?, (vec![ann_at_two], 1));
    Ok(())
}

conformance!(operators_are_unique_case_insensitively);
async fn operators_are_unique_case_insensitively(store: Store) -> TestResult {
    let first = operator("Root@Platform.example", OperatorRole::Admin, t(0));
    let second = OperatorRecord {
        status: PersonStatus::Disabled,
        last_sign_in_at: Some(t(HOUR)),
        ..operator("viewer@platform.example", OperatorRole::Viewer, t(SECOND))
    };
    let mut tx = store.begin().await?;
    tx.insert_operator(&first).await?;
    tx.insert_operator(&second).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_operator(&operator("root@platform.EXAMPLE", OperatorRole::Viewer, t(DAY))).await);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.operators_page(ALL).await?, (vec![first.clone(), second.clone()], 2));
    assert_eq!(tx.operators_page(PageReq { page: 1, size: 1 }).await?, (vec![first.clone()], 2));
    assert_eq!(tx.operator_by_email("ROOT@platform.example").await?, Some(first));
    assert_eq!(tx.operator_by_email("nobody@platform.example").await?, None);
    Ok(())
}

conformance!(client_users_keep_status_and_one_address_per_client);
async fn client_users_keep_status_and_one_address_per_client(store: Store) -> TestResult {
    let c = client("Acme", t(0));
    let signed_in =
        ClientUserRecord { status: PersonStatus::Active, last_sign_in_at: Some(t(HOUR)), ..user(&c, "owner@acme.example", true) };
    let mut tx = store.begin().await?;
    tx.insert_client(&c, std::slice::from_ref(&signed_in)).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.client_users(c.id).await?, vec![signed_in]);
    drop(tx);

    let twice = client("Twice", t(0));
    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_client(&twice, &[user(&twice, "a@twice.example", true), user(&twice, "A@Twice.example", false)]).await);
    drop(tx);

    // The same address at another client is fine (one person, several roles).
    let other = client("Other", t(0));
    let mut tx = store.begin().await?;
    tx.insert_client(&other, &[user(&other, "owner@acme.example", true)]).await?;
    assert_eq!(tx.client_users(other.id).await?.len(), 1);
    Ok(())
}

/// Migration 0010 makes one address per client unique; repeats written before it (any
/// case) are removed, keeping the onboarding user, else the lowest id, and every client
/// user becomes `invited` with no sign-in.
async fn migration_0010_keeps_one_user_per_address(url: String) -> TestResult {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let all = if url.starts_with("sqlite:") { sqlx::migrate!("./migrations/sqlite") } else { sqlx::migrate!("./migrations/postgres") };
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.migrations.iter().filter(|m| m.version < 10).cloned().collect()),
        ..all
    };
    // `run_direct`: `run` over a connection trips the "Acquire is not general enough" bound in a spawned future.
    before.run_direct(&mut conn).await?;
    for client in ["00000000-0000-0000-0000-00000000000a", "00000000-0000-0000-0000-00000000000b"] {
        sqlx::query("INSERT INTO clients (id, company_name, country, details_json, created_at) VALUES ($1, 'C', 'DK', '{}', 0)")
            .bind(client)
            .execute(&mut conn)
            .await?;
    }
    // (id, client, email, onboarding user)
    let rows = [
        ("00000000-0000-0000-0000-000000000001", "a", "ann@a.example", 0),
        ("00000000-0000-0000-0000-000000000002", "a", "ANN@a.example", 1),
        ("00000000-0000-0000-0000-000000000003", "a", "bob@a.example", 0),
        ("00000000-0000-0000-0000-000000000004", "a", "Bob@A.example", 0),
        ("00000000-0000-0000-0000-000000000005", "b", "ann@a.example", 1),
    ];
    for (id, client, email, onboarding) in rows {
        sqlx::query(
            "INSERT INTO client_users (id, client_id, name, email, email_key, phone, is_onboarding_user) VALUES ($1, $2, 'U', $3, $4, NULL, $5)",
        )
        .bind(id)
        .bind(format!("00000000-0000-0000-0000-00000000000{client}"))
        .bind(email)
        .bind(email.to_lowercase())
        .bind(onboarding as i64)
        .execute(&mut conn)
        .await?;
    }
    conn.close().await?;

    let store = Store::open(&url).await?; // applies 0010
    let mut tx = store.begin().await?;
    let ids = |users: Vec<ClientUserRecord>| users.iter().map(|u| (u.id.to_string(), u.status, u.last_sign_in_at)).collect::<Vec<_>>();
    let kept = |n: u8| (format!("00000000-0000-0000-0000-00000000000{n}"), PersonStatus::Invited, None);
    assert_eq!(ids(tx.client_users("00000000-0000-0000-0000-00000000000a".parse()?).await?), vec![kept(2), kept(3)]);
    assert_eq!(ids(tx.client_users("00000000-0000-0000-0000-00000000000b".parse()?).await?), vec![kept(5)]);
    drop(tx);
    store.close().await;
    Ok(())
}

#[tokio::test]
async fn migration_0010_keeps_one_user_per_address_sqlite() {
    crate::harness::on_empty(refshare_store::Backend::Sqlite, migration_0010_keeps_one_user_per_address).await;
}

#[tokio::test]
async fn migration_0010_keeps_one_user_per_address_postgres() {
    crate::harness::on_empty(refshare_store::Backend::Postgres, migration_0010_keeps_one_user_per_address).await;
}

conformance!(roles_and_status_change_only_at_the_right_tenant);
async fn roles_and_status_change_only_at_the_right_tenant(store: Store) -> TestResult {
    let (p1, p2) = (partner("One", t(0)), partner("Two", t(0)));
    let ann = partner_user(p1.id, "ann@one.test", PartnerRole::Admin, t(0));
    let ada = operator("ada@platform.test", OperatorRole::Admin, t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p1).await?;
    tx.insert_partner(&p2).await?;
    tx.insert_partner_user(&ann).await?;
    tx.insert_operator(&ada).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert!(!tx.update_partner_user(p2.id, ann.id, PartnerRole::Member, PersonStatus::Disabled).await?, "not another partner's");
    assert!(tx.update_partner_user(p1.id, ann.id, PartnerRole::Member, PersonStatus::Disabled).await?);
    assert!(tx.update_operator(ada.id, OperatorRole::Viewer, PersonStatus::Disabled).await?);
    assert!(!tx.update_operator(Uuid::new_v4(), OperatorRole::Viewer, PersonStatus::Disabled).await?);
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let got = tx.partner_user(p1.id, ann.id).await?.unwrap();
    assert_eq!((got.role, got.status), (PartnerRole::Member, PersonStatus::Disabled));
    let got = tx.operator(ada.id).await?.unwrap();
    assert_eq!((got.role, got.status, got.email.as_str()), (OperatorRole::Viewer, PersonStatus::Disabled, "ada@platform.test"));
    assert_eq!(tx.operator(Uuid::new_v4()).await?, None);
    Ok(())
}
