//! Links (status history, `status_at`, the partial unique indexes) and link requests.

use refshare_core::link::{LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_store::{ClientRecord, LinkRequestRecord, PartnerRecord, Store};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

/// Stores partners and clients in one committed transaction.
async fn seed(store: &Store, partners: &[&PartnerRecord], clients: &[&ClientRecord]) -> TestResult {
    let mut tx = store.begin().await?;
    for p in partners {
        tx.insert_partner(p).await?;
    }
    for c in clients {
        tx.insert_client(c, &[]).await?;
    }
    tx.commit().await?;
    Ok(())
}

conformance!(link_history_round_trips_exactly);
async fn link_history_round_trips_exactly(store: Store) -> TestResult {
    let p = partner("Partner", t(0));
    let c = client("Client", t(0));
    seed(&store, &[&p], &[&c]).await?;
    let linked_at = t(HOUR);
    let mut l = link(&p, &c, "tenant-1", true, linked_at);

    let mut tx = store.begin().await?;
    tx.insert_link(&l, ACTOR, Some("https://partner.example/return?x=1")).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.link(l.id).await?, Some(l.clone()));
    assert_eq!(tx.link_return_url(l.id).await?.as_deref(), Some("https://partner.example/return?x=1"));
    assert_eq!(tx.link(Uuid::new_v4()).await?, None);

    // One millisecond apart: the stored instants must keep their milliseconds.
    let archived = event(linked_at + chrono::Duration::milliseconds(1), LinkStatus::Archived, Some("customer churned"));
    tx.change_link_status(&l, &archived).await?;
    l.history.push(archived);
    change_status(&mut tx, &mut l, LinkStatus::Active, t(HOUR + 2)).await?;
    change_status(&mut tx, &mut l, LinkStatus::Deleted, t(HOUR + 3)).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let stored = tx.link(l.id).await?.expect("link stored");
    assert_eq!(stored, l, "history appended in order with actor and reason");
    let expected = [
        (t(HOUR - 1), None),
        (t(HOUR), Some(LinkStatus::Active)),
        (t(HOUR + 1), Some(LinkStatus::Archived)),
        (t(HOUR + 2), Some(LinkStatus::Active)),
        (t(HOUR + 3), Some(LinkStatus::Deleted)),
        (t(365 * DAY), Some(LinkStatus::Deleted)),
    ];
    for (at, status) in expected {
        assert_eq!(stored.status_at(at), status, "status at {at}");
    }
    assert_eq!(stored.current_status(), LinkStatus::Deleted);
    assert_eq!(stored.entered_at(LinkStatus::Archived, t(DAY)), Some(t(HOUR + 1)));

    assert_eq!(tx.links_of_client(c.id).await?, vec![l.clone()]);
    assert_eq!(tx.links_of_partner(p.id).await?, vec![l.clone()]);
    assert_eq!(tx.active_link_by_tenant(p.id, "tenant-1").await?, None, "deleted is not active");
    assert_eq!(tx.links_by_tenant(p.id, "tenant-1").await?, vec![l]);
    Ok(())
}

conformance!(one_active_link_per_client);
async fn one_active_link_per_client(store: Store) -> TestResult {
    let (first, second) = (partner("First", t(0)), partner("Second", t(0)));
    let c = client("Client", t(0));
    seed(&store, &[&first, &second], &[&c]).await?;
    let mut a = link(&first, &c, "a", true, t(HOUR));
    let mut b = link(&second, &c, "b", false, t(2 * HOUR));
    let mut tx = store.begin().await?;
    tx.insert_link(&a, ACTOR, None).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_link(&b, ACTOR, None).await);
    drop(tx);

    let mut tx = store.begin().await?;
    change_status(&mut tx, &mut a, LinkStatus::Archived, t(2 * HOUR)).await?;
    tx.insert_link(&b, ACTOR, None).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_conflict(change_status(&mut tx, &mut a.clone(), LinkStatus::Active, t(3 * HOUR)).await);
    drop(tx);

    let mut tx = store.begin().await?;
    change_status(&mut tx, &mut b, LinkStatus::Deleted, t(3 * HOUR)).await?;
    change_status(&mut tx, &mut a, LinkStatus::Active, t(4 * HOUR)).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.links_of_client(c.id).await?, vec![a.clone(), b.clone()], "by linked_at");
    // The batch reader: the same list per client, with histories; unknown clients absent.
    let batch = tx.links_of_clients(&[c.id, Uuid::new_v4()]).await?;
    assert_eq!(batch.len(), 1, "{batch:?}");
    assert_eq!(batch[&c.id], vec![a, b]);
    Ok(())
}

conformance!(one_active_link_per_partner_tenant);
async fn one_active_link_per_partner_tenant(store: Store) -> TestResult {
    let (p, other) = (partner("Partner", t(0)), partner("Other", t(0)));
    let clients: Vec<ClientRecord> = (0..5).map(|i| client(&format!("Client {i}"), t(0))).collect();
    seed(&store, &[&p, &other], &clients.iter().collect::<Vec<_>>()).await?;
    let mut first = link(&p, &clients[0], "acme", true, t(HOUR));
    let mut tx = store.begin().await?;
    tx.insert_link(&first, ACTOR, None).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_link(&link(&p, &clients[1], "acme", true, t(2 * HOUR)), ACTOR, None).await);
    drop(tx);

    let upper = link(&p, &clients[1], "ACME", true, t(2 * HOUR));
    let elsewhere = link(&other, &clients[2], "acme", true, t(2 * HOUR));
    let again = link(&p, &clients[3], "acme", false, t(4 * HOUR));
    let mut tx = store.begin().await?;
    tx.insert_link(&upper, ACTOR, None).await?; // tenant ids are case-sensitive
    tx.insert_link(&elsewhere, ACTOR, None).await?; // unique per partner only
    change_status(&mut tx, &mut first, LinkStatus::Archived, t(3 * HOUR)).await?;
    tx.insert_link(&again, ACTOR, None).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.active_link_by_tenant(p.id, "acme").await?, Some(again.clone()));
    assert_eq!(tx.active_link_by_tenant(p.id, "ACME").await?, Some(upper));
    assert_eq!(tx.active_link_by_tenant(p.id, "Acme").await?, None);
    assert_eq!(tx.active_link_by_tenant(other.id, "acme").await?, Some(elsewhere));
    assert_eq!(tx.links_by_tenant(p.id, "acme").await?, vec![again, first.clone()], "newest first");
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(change_status(&mut tx, &mut first, LinkStatus::Active, t(5 * HOUR)).await);
    Ok(())
}

fn request(p: &PartnerRecord, c: &ClientRecord, token_hash: &str, created_at: refshare_core::Instant, ttl_ms: i64) -> LinkRequestRecord {
    LinkRequestRecord {
        request: LinkRequest {
            id: Uuid::new_v4(),
            partner_id: p.id,
            client_id: c.id,
            external_tenant_id: format!("tenant-{token_hash}"),
            created_at,
            expires_at: created_at + chrono::Duration::milliseconds(ttl_ms),
            status: LinkRequestStatus::Pending,
            decided_at: None,
        },
        token_hash: token_hash.to_string(),
        cases_json: r#"[{"creditorReference":"INV-1","amount":"1234.56","currency":"EUR"}]"#.to_string(),
        return_url: None,
        decided_by_user_id: None,
    }
}

conformance!(link_requests_lifecycle_and_overdue_filter);
async fn link_requests_lifecycle_and_overdue_filter(store: Store) -> TestResult {
    let (p, other) = (partner("Partner", t(0)), partner("Other", t(0)));
    let (c, d) = (client("Client", t(0)), client("Second", t(0)));
    seed(&store, &[&p, &other], &[&c, &d]).await?;
    let mut week = request(&p, &c, "tok-week", t(0), 7 * DAY);
    week.return_url = Some("https://partner.example/back".into());
    let day = request(&p, &c, "tok-day", t(1), DAY);
    let mut declined = request(&other, &c, "tok-declined", t(2), DAY);
    let elsewhere = request(&p, &d, "tok-elsewhere", t(3), 30 * DAY);
    let mut tx = store.begin().await?;
    for r in [&elsewhere, &declined, &day, &week] {
        tx.insert_link_request(r).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.link_request_by_token_hash("tok-week").await?, Some(week.clone()));
    assert_eq!(tx.link_request_by_token_hash("tok-unknown").await?, None);
    assert_eq!(tx.link_requests_of_client(c.id).await?, vec![week.clone(), day.clone(), declined.clone()]);
    assert_eq!(tx.link_requests_of_partner(p.id).await?, vec![week.clone(), day.clone(), elsewhere.clone()]);
    // The batch reader groups the same lists per client; a client without requests is absent.
    let batch = tx.link_requests_of_clients(&[d.id, c.id, Uuid::new_v4()]).await?;
    assert_eq!(batch.len(), 2, "{batch:?}");
    assert_eq!(batch[&c.id], vec![week.clone(), day.clone(), declined.clone()]);
    assert_eq!(batch[&d.id], vec![elsewhere.clone()]);

    tx.set_link_request_status(declined.request.id, LinkRequestStatus::Declined, Some(t(HOUR))).await?;
    declined.request.status = LinkRequestStatus::Declined;
    declined.request.decided_at = Some(t(HOUR));
    tx.set_link_request_decider(declined.request.id, Uuid::from_u128(42)).await?;
    declined.decided_by_user_id = Some(Uuid::from_u128(42));
    tx.set_link_request_cases(week.request.id, "[]").await?;
    week.cases_json = "[]".into();
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.link_request_by_token_hash("tok-declined").await?, Some(declined));
    assert_eq!(tx.link_request_by_token_hash("tok-week").await?, Some(week.clone()));
    let overdue = |rs: Vec<LinkRequestRecord>| rs.into_iter().map(|r| r.token_hash).collect::<Vec<_>>();
    assert_eq!(overdue(tx.overdue_link_requests(t(DAY)).await?), Vec::<String>::new());
    assert_eq!(overdue(tx.overdue_link_requests(t(DAY + 1)).await?), vec!["tok-day"], "expires_at itself is overdue");
    assert_eq!(overdue(tx.overdue_link_requests(t(8 * DAY)).await?), vec!["tok-week", "tok-day"], "declined ones never");

    tx.set_link_request_status(day.request.id, LinkRequestStatus::Expired, None).await?;
    assert_eq!(overdue(tx.overdue_link_requests(t(8 * DAY)).await?), vec!["tok-week"]);
    let expired = tx.link_request_by_token_hash("tok-day").await?.expect("stored");
    assert_eq!((expired.request.status, expired.request.decided_at), (LinkRequestStatus::Expired, None));
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_link_request(&request(&other, &d, "tok-week", t(DAY), DAY)).await);
    Ok(())
}
