//! Bounded partner lists (issue 9): keyset pagination of the case list, stable while cases
//! are added; the client list's filters, orders and pages in SQL; the page's rows loaded per
//! set (links with their histories, clients, users, per-client case counts); and the plans
//! that make page 1 cheap.

use std::collections::BTreeSet;

use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::link::LinkStatus;
use refshare_store::{CaseFilter, CaseRecord, ClientOrder, ClientRecord, PageReq, PartnerClientFilter, Store, Tx};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

fn refs(cases: &[CaseRecord]) -> Vec<String> {
    cases.iter().map(|c| c.reference.clone()).collect()
}

/// Walks the whole list with keyset pages of `size`, calling `between` after each page.
async fn walk<F>(tx: &mut Tx, partner: Uuid, filter: &CaseFilter, size: u32, mut between: F) -> TestResult<Vec<String>>
where
    F: FnMut(usize) -> Vec<CaseRecord>,
{
    let mut seen = Vec::new();
    let mut f = filter.clone();
    for n in 0.. {
        let page = tx.partner_cases(partner, &f, PageReq { page: 1, size }).await?;
        assert!(page.len() <= size as usize);
        seen.extend(refs(&page));
        for c in between(n) {
            tx.insert_case(&c).await?;
        }
        match page.last() {
            Some(last) if page.len() == size as usize => f.after = Some(filter.cursor_of(last)),
            _ => break,
        }
    }
    Ok(seen)
}

conformance!(keyset_pages_neither_skip_nor_repeat_while_cases_are_added);
async fn keyset_pages_neither_skip_nor_repeat_while_cases_are_added(store: Store) -> TestResult {
    let p = partner("Partner", t(0));
    let (a, b) = (client("A", t(0)), client("B", t(0)));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_client(&a, &[]).await?;
    tx.insert_client(&b, &[]).await?;
    tx.insert_link(&link(&p, &a, "t-a", true, t(0)), ACTOR, None).await?;
    tx.insert_link(&link(&p, &b, "t-b", true, t(0)), ACTOR, None).await?;
    // Eleven cases over two clients; three share one instant and two share one amount, so
    // pages end inside ties and the id has to break them.
    let mut original = Vec::new();
    for i in 0..11i64 {
        let created = if (4..7).contains(&i) { t(5 * HOUR) } else { t((i + 1) * HOUR) };
        let amount_minor = if i == 2 || i == 8 { 7_777 } else { 1_000 + i * 100 };
        let c = CaseRecord { amount_minor, ..case(if i % 2 == 0 { &a } else { &b }, 20_000 + i, CaseSource::WebApp, created) };
        tx.insert_case(&c).await?;
        original.push(c);
    }
    tx.commit().await?;

    let orders: Vec<(&str, CaseFilter)> = vec![
        ("newest first", CaseFilter::default()),
        ("oldest first", CaseFilter { sort: Some(("created_at".into(), true)), ..Default::default() }),
        ("amount descending", CaseFilter { sort: Some(("amount_minor".into(), false)), ..Default::default() }),
        ("amount ascending", CaseFilter { sort: Some(("amount_minor".into(), true)), ..Default::default() }),
        ("filtered", CaseFilter { external_tenant_id: Some("t-a".into()), ..Default::default() }),
        // A search alone reads the partner's visible set (migration 0029), not the cases.
        ("searched", CaseFilter { query: Some("deb-".into()), ..Default::default() }),
        ("searched and filtered", CaseFilter { query: Some("deb-".into()), external_tenant_id: Some("t-a".into()), ..Default::default() }),
    ];
    let mut number = 30_000;
    for (what, filter) in orders {
        let mut tx = store.begin().await?;
        let (all, total) = tx.partner_cases_page(p.id, &filter, PageReq { page: 1, size: 100 }).await?;
        // Keyset pages on an unchanged list are exactly the offset pages.
        for size in [1, 2, 3, 4, 11] {
            assert_eq!(walk(&mut tx, p.id, &filter, size, |_| vec![]).await?, refs(&all), "{what}, pages of {size}");
        }
        // Between pages, cases are added before the cursor (newest, largest, smallest) and
        // after it: the rows there at the start each come exactly once, in order.
        let mut added = Vec::new();
        let seen = walk(&mut tx, p.id, &filter, 3, |_| {
            let mut new = Vec::new();
            for (created, amount) in [(t(DAY), 99_999_999), (t(HOUR / 2), 1), (t(5 * HOUR), 7_777)] {
                number += 1;
                new.push(CaseRecord { amount_minor: amount, ..case(&a, number, CaseSource::WebApp, created) });
            }
            added.extend(new.iter().map(|c| c.reference.clone()));
            new
        })
        .await?;
        let before: Vec<&String> = seen.iter().filter(|r| !added.contains(r)).collect();
        assert_eq!(before, refs(&all).iter().collect::<Vec<_>>(), "{what}: none skipped, none repeated, in order");
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len(), "{what}: no row twice");
        let (_, grown) = tx.partner_cases_page(p.id, &filter, PageReq { page: 1, size: 100 }).await?;
        assert!(grown > total, "{what}: the list grew meanwhile");
        // The cursor narrows the page, not the total.
        let cursor = filter.cursor_of(&all[0]);
        let after = CaseFilter { after: Some(cursor), ..filter.clone() };
        assert_eq!(tx.partner_cases_count(p.id, &after).await?, tx.partner_cases_count(p.id, &filter).await?, "{what}");
        assert!(!refs(&tx.partner_cases(p.id, &after, PageReq { page: 1, size: 100 }).await?).contains(&all[0].reference));
        drop(tx); // rolls back what was added
    }
    Ok(())
}

conformance!(a_cursor_survives_its_text_form);
async fn a_cursor_survives_its_text_form(_store: Store) -> TestResult {
    let c = case(&client("A", t(0)), 1, CaseSource::WebApp, t(HOUR));
    for sort in [None, Some(("amount_minor".to_string(), true))] {
        let f = CaseFilter { sort, ..Default::default() };
        let cursor = f.cursor_of(&c);
        assert_eq!(refshare_store::CaseCursor::decode(&cursor.encode()), Some(cursor));
    }
    for bad in ["", "12", "x_00000000-0000-0000-0000-000000000000", "12_not-a-uuid"] {
        assert_eq!(refshare_store::CaseCursor::decode(bad), None, "{bad:?}");
    }
    Ok(())
}

/// A partner with five clients (names, attribution, onboarding, link times vary), a rival
/// partner, and cases on them.
struct Clients {
    p: Uuid,
    /// By tenant: `t-1` … `t-5`.
    clients: Vec<ClientRecord>,
}

async fn seed_clients(store: &Store) -> TestResult<Clients> {
    let p = partner("Partner", t(0));
    let rival = partner("Rival", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&rival).await?;
    #[rustfmt::skip]
    let rows: [(&str, bool, bool, i64); 5] = [
        ("beta Oy", true, true, 1),
        ("Ålborg Fisk", false, false, 2),
        ("Acme", true, false, 3),
        ("ålborg fisk", true, true, 4),
        ("Zeta AB", false, true, 5),
    ];
    let mut clients = Vec::new();
    for (i, (name, attributed, onboarded, hour)) in rows.into_iter().enumerate() {
        let c = ClientRecord { onboarding_completed_at: onboarded.then(|| t(DAY)), ..client(name, t(0)) };
        tx.insert_client(&c, &[user(&c, &format!("b{i}@x.test"), false), user(&c, &format!("a{i}@x.test"), true)]).await?;
        tx.insert_link(&link(&p, &c, &format!("t-{}", i + 1), attributed, t(hour * HOUR)), ACTOR, None).await?;
        // Two cases after the link (one closed), one before it; one by the partner's channel.
        let n = 40_000 + 10 * i as i64;
        tx.insert_case(&CaseRecord { lifecycle: Lifecycle::Closed, ..case(&c, n, CaseSource::WebApp, t(10 * HOUR)) }).await?;
        tx.insert_case(&partner_case(&c, n + 1, &p, t(11 * HOUR))).await?;
        tx.insert_case(&case(&c, n + 2, CaseSource::WebApp, t(0))).await?;
        clients.push(c);
    }
    // An archived link of the partner, and the rival's active one: neither is listed.
    let gone = client("Gone Ltd", t(0));
    tx.insert_client(&gone, &[]).await?;
    let mut l = link(&p, &gone, "t-gone", true, t(HOUR));
    tx.insert_link(&l, ACTOR, None).await?;
    change_status(&mut tx, &mut l, LinkStatus::Archived, t(2 * HOUR)).await?;
    let theirs = client("Acme Rival Client", t(0));
    tx.insert_client(&theirs, &[]).await?;
    tx.insert_link(&link(&rival, &theirs, "t-r", true, t(HOUR)), ACTOR, None).await?;
    tx.commit().await?;
    Ok(Clients { p: p.id, clients })
}

async fn tenants(tx: &mut Tx, p: Uuid, f: &PartnerClientFilter, order: ClientOrder, page: PageReq) -> TestResult<(Vec<String>, i64)> {
    let (ids, total) = tx.partner_client_page(p, f, order, page).await?;
    let links = tx.links_by_ids(&ids).await?;
    assert_eq!(links.iter().map(|l| l.id).collect::<Vec<_>>(), ids, "links_by_ids keeps the page's order");
    Ok((links.into_iter().map(|l| l.external_tenant_id).collect(), total))
}

fn ts(ns: &[u8]) -> Vec<String> {
    ns.iter().map(|n| format!("t-{n}")).collect()
}

conformance!(client_list_filters_orders_and_pages_in_sql);
async fn client_list_filters_orders_and_pages_in_sql(store: Store) -> TestResult {
    let s = seed_clients(&store).await?;
    let mut tx = store.read().await?;
    let all = PageReq { page: 1, size: 100 };
    let none = PartnerClientFilter::default();
    #[rustfmt::skip]
    let checks: Vec<(&str, PartnerClientFilter, ClientOrder, PageReq, Vec<String>, i64)> = vec![
        ("newest link first", none.clone(), ClientOrder::LinkedDesc, all, ts(&[5, 4, 3, 2, 1]), 5),
        ("oldest link first", none.clone(), ClientOrder::LinkedAsc, all, ts(&[1, 2, 3, 4, 5]), 5),
        // Unicode lower-casing: "ålborg fisk" twice (ties keep link order), after the ASCII names.
        ("name ascending", none.clone(), ClientOrder::NameAsc, all, ts(&[3, 1, 5, 2, 4]), 5),
        ("name descending, ties in link order", none.clone(), ClientOrder::NameDesc, all, ts(&[2, 4, 5, 1, 3]), 5),
        ("page 2 of 2", none.clone(), ClientOrder::LinkedDesc, PageReq { page: 2, size: 2 }, ts(&[3, 2]), 5),
        ("name page 2", none.clone(), ClientOrder::NameAsc, PageReq { page: 2, size: 2 }, ts(&[5, 2]), 5),
        ("past the end", none.clone(), ClientOrder::LinkedDesc, PageReq { page: 4, size: 2 }, ts(&[]), 5),
        ("tenant", PartnerClientFilter { external_tenant_id: Some("t-3".into()), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[3]), 1),
        ("attributed", PartnerClientFilter { is_attributed: Some(true), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[4, 3, 1]), 3),
        ("not attributed", PartnerClientFilter { is_attributed: Some(false), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[5, 2]), 2),
        ("onboarded", PartnerClientFilter { onboarding_done: Some(true), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[5, 4, 1]), 3),
        ("onboarding pending", PartnerClientFilter { onboarding_done: Some(false), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[3, 2]), 2),
        ("linked range, inclusive", PartnerClientFilter { linked_from: Some(t(2 * HOUR)), linked_to: Some(t(4 * HOUR)), ..none.clone() }, ClientOrder::LinkedAsc, all, ts(&[2, 3, 4]), 3),
        ("query: name, any case", PartnerClientFilter { query: Some("ÅLBORG".into()), ..none.clone() }, ClientOrder::NameAsc, all, ts(&[2, 4]), 2),
        ("query: short", PartnerClientFilter { query: Some("ac".into()), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[3]), 1),
        ("query: tenant", PartnerClientFilter { query: Some("t-5".into()), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[5]), 1),
        ("query: not the rival's client", PartnerClientFilter { query: Some("rival".into()), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[]), 0),
        ("query: not an archived link", PartnerClientFilter { query: Some("gone".into()), ..none.clone() }, ClientOrder::LinkedDesc, all, ts(&[]), 0),
        ("combined", PartnerClientFilter { is_attributed: Some(true), onboarding_done: Some(true), query: Some("o".into()), ..none.clone() }, ClientOrder::NameDesc, all, ts(&[4, 1]), 2),
    ];
    for (what, f, order, page, expected, total) in checks {
        assert_eq!(tenants(&mut tx, s.p, &f, order, page).await?, (expected, total), "{what}");
    }

    let totals = tx.partner_client_totals(s.p).await?;
    assert_eq!((totals.clients, totals.attributed, totals.onboarding_complete), (5, 3, 3));
    Ok(())
}

conformance!(a_pages_rows_load_per_set);
async fn a_pages_rows_load_per_set(store: Store) -> TestResult {
    let s = seed_clients(&store).await?;
    let mut tx = store.read().await?;
    let ids: Vec<Uuid> = s.clients.iter().map(|c| c.id).collect();

    let clients = tx.clients_by_ids(&ids).await?;
    for c in &s.clients {
        assert_eq!(clients.get(&c.id), Some(c), "{}", c.company_name);
    }
    let users = tx.client_users_of(&ids).await?;
    for c in &s.clients {
        assert_eq!(users.get(&c.id).cloned().unwrap_or_default(), tx.client_users(c.id).await?, "same users, same order");
    }

    // Visible cases per client: after the link; on an unattributed link only the partner's own.
    let counts = tx.partner_case_counts_by_client(s.p, &ids).await?;
    let got: Vec<(i64, i64)> = s.clients.iter().map(|c| counts.get(&c.id).copied().unwrap_or((0, 0))).collect();
    assert_eq!(got, vec![(2, 1), (1, 0), (2, 1), (2, 1), (1, 0)]);
    let (by, _) = tx.partner_case_counts(s.p, t(0)).await?;
    assert_eq!(by.iter().map(|(_, n)| n).sum::<i64>(), got.iter().map(|(n, _)| n).sum::<i64>(), "the same rule");
    assert_eq!(tx.partner_visible_case_count(s.p).await?, 8, "the total alone, by the same rule");
    assert_eq!(tx.partner_visible_case_count(Uuid::new_v4()).await?, 0, "another partner sees none");
    assert!(tx.partner_case_counts_by_client(Uuid::new_v4(), &ids).await?.is_empty(), "another partner sees none");

    // The partner's active links to the clients, with their whole histories.
    let links = tx.active_links_to_clients(s.p, &ids).await?;
    assert_eq!(links.len(), 5);
    for l in &links {
        assert_eq!(Some(l.clone()), tx.link(l.id).await?, "as one link reads");
        assert_eq!(l.current_status(), LinkStatus::Active);
    }
    assert!(tx.links_by_ids(&[Uuid::new_v4()]).await?.is_empty());
    Ok(())
}

conformance!(many_ids_go_in_chunks);
async fn many_ids_go_in_chunks(store: Store) -> TestResult {
    let p = partner("Partner", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    let mut ids = Vec::new();
    for i in 0..1_203 {
        let c = client(&format!("C{i}"), t(0));
        tx.insert_client(&c, &[]).await?;
        ids.push(c.id);
    }
    assert_eq!(tx.clients_by_ids(&ids).await?.len(), 1_203);
    Ok(())
}

conformance!(many_ids_read_in_one_statement);
/// A read by a list of ids in one statement (`rows_in_one`: the ids as one text array on
/// PostgreSQL, one JSON array through `json_each` on SQLite) finds the row of every id,
/// however many (more than a chunk of 500), with its leading parameter bound before the
/// list, and nothing for an id that is not there or an empty list.
async fn many_ids_read_in_one_statement(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    let mut ids = Vec::new();
    let mut mine = BTreeSet::new();
    for i in 0..1_203i64 {
        let c = client(&format!("C{i}"), t(0));
        tx.insert_client(&c, &[]).await?;
        // Every third client is Q's.
        let owner = if i % 3 == 0 { &q } else { &p };
        let l = link(owner, &c, &format!("tenant-{i}"), true, t(i * SECOND));
        tx.insert_link(&l, ACTOR, None).await?;
        if i % 3 != 0 {
            mine.insert((l.id, c.id, format!("tenant-{i}")));
        }
        ids.push(c.id);
    }
    ids.push(Uuid::new_v4());
    let got = tx.partner_link_tenants_of_clients(p.id, &ids).await?;
    assert_eq!(got.len(), 802);
    assert_eq!(got.iter().map(|l| (l.id, l.client_id, l.external_tenant_id.clone())).collect::<BTreeSet<_>>(), mine);
    assert!(got.windows(2).all(|w| w[0].linked_at < w[1].linked_at), "oldest first");
    assert_eq!(tx.partner_link_tenants_of_clients(q.id, &ids).await?.len(), 401);
    assert!(tx.partner_link_tenants_of_clients(p.id, &[]).await?.is_empty());
    assert!(tx.partner_link_tenants_of_clients(p.id, &[Uuid::new_v4()]).await?.is_empty());
    Ok(())
}

conformance!(partner_lists_read_their_indexes);
async fn partner_lists_read_their_indexes(store: Store) -> TestResult {
    let s = seed_clients(&store).await?;
    let mut tx = store.begin().await?;
    tx.plan_as_if_large().await?;
    let count = tx.partner_cases_count_plan(s.p, &CaseFilter::default()).await?.join("\n");
    let page = tx.partner_cases_plan(s.p, &CaseFilter::default(), PageReq { page: 1, size: 20 }).await?.join("\n");
    let clients = tx.partner_client_page_plan(s.p, &PartnerClientFilter::default()).await?.join("\n");
    if store.backend() == refshare_store::Backend::Sqlite {
        assert!(count.contains("COVERING INDEX cases_partner_list"), "{count}");
        assert!(page.contains("COVERING INDEX cases_partner_list"), "{page}");
        assert!(clients.contains("links_partner_active"), "{clients}");
    } else {
        // Unfiltered: the partner's visible set by creation (migration 0035); a filter
        // goes through the rule over the covering index.
        assert!(count.contains("partner_case_keys_created"), "{count}");
        assert!(page.contains("partner_case_keys_created"), "{page}");
        let source = CaseFilter { sources: vec![refshare_core::case::CaseSource::WebApp], ..CaseFilter::default() };
        let filtered = tx.partner_cases_plan(s.p, &source, PageReq { page: 1, size: 20 }).await?.join("\n");
        assert!(filtered.contains("cases_partner_list"), "{filtered}");
    }
    Ok(())
}

/// What a page of the client list reads part by part (each its own statement), to hold
/// `Tx::partner_client_page_rows` (one statement) against.
async fn client_page_by_parts(
    tx: &mut Tx,
    p: Uuid,
    ids: &[Uuid],
    total: i64,
    day: &str,
) -> TestResult<(refshare_store::ClientPageRows, Vec<Uuid>)> {
    let links = tx.links_by_ids(ids).await?;
    let client_ids: Vec<Uuid> = links.iter().map(|l| l.client_id).collect();
    let clients = tx.clients_by_ids(&client_ids).await?;
    let users = tx.client_users_of(&client_ids).await?;
    let mut items = Vec::new();
    for l in &links {
        let none = Vec::new();
        items.push(refshare_store::ClientListRow::of(l, &clients[&l.client_id], users.get(&l.client_id).unwrap_or(&none))?);
    }
    let rows = refshare_store::ClientPageRows {
        totals: tx.partner_client_totals(p).await?,
        visible_cases: tx.partner_visible_case_count(p).await?,
        total,
        items,
        case_counts: tx.partner_case_counts_by_client(p, &client_ids).await?,
        rates: tx.fx_rates_on_or_before(day).await?,
        earnings: Default::default(),
    };
    Ok((rows, client_ids))
}

conformance!(a_client_page_in_one_statement_is_the_one_part_reads);
/// `Tx::partner_client_page_rows` (one statement, through `Store::read_statement` for a
/// date order, by the page's link ids for a name order) gives exactly what the one-part
/// reads give, for filters, orders and pages of the client list: the summary's counts, the
/// count that matches, the page's links in order with their histories, clients, users in
/// order, visible case counts, the current rates, and the earnings per client from the kept
/// rows (estimates built at today's rates: nothing stale; a rate loaded since: that
/// currency is stale). Another partner's page is empty.
async fn a_client_page_in_one_statement_is_the_one_part_reads(store: Store) -> TestResult {
    use refshare_core::money::Currency;
    use refshare_core::stage::RevenueStage;
    let s = seed_clients(&store).await?;
    let ids: Vec<Uuid> = s.clients.iter().map(|c| c.id).collect();
    let (eur, jpy) = (currency("EUR"), currency("JPY"));
    let mut tx = store.begin().await?;
    let mut links = tx.active_links_to_clients(s.p, &ids).await?;
    let partner = tx.partner(s.p).await?.expect("partner");
    // A history of three events; earnings locked and estimated, in EUR and JPY.
    change_status(&mut tx, &mut links[1], LinkStatus::Archived, t(20 * HOUR)).await?;
    change_status(&mut tx, &mut links[1], LinkStatus::Active, t(21 * HOUR)).await?;
    for (i, l) in links.iter().enumerate().take(4) {
        let c = s.clients.iter().find(|c| c.id == l.client_id).expect("client");
        let mut k = CaseRecord { created_at: t(30 * HOUR), ..partner_case(c, 50_000 + i as i64, &partner, t(30 * HOUR)) };
        if i == 2 {
            k.currency = jpy;
        }
        tx.insert_case(&k).await?;
        for (j, locked) in [Some(110_000_000 + i as i64), None, None].into_iter().enumerate() {
            let at = t(31 * HOUR + j as i64);
            crate::reporting::book(&mut tx, &partner, l, &k, 1_001 + 17 * i as i64 + j as i64, at, at, RevenueStage::Pending, locked)
                .await?;
        }
    }
    tx.put_fx_rate("EUR", "2024-01-01", 105_000_000).await?;
    tx.put_fx_rate("EUR", "2024-02-01", 107_000_000).await?;
    tx.put_fx_rate("EUR", "2024-09-01", 109_000_000).await?;
    tx.put_fx_rate("SEK", "2024-01-15", 9_500_000).await?;
    let day = "2024-03-05";
    // Estimates built at the day's rates: EUR 1.07, SEK, USD; the others without a rate.
    let built: Vec<(Currency, Option<i64>)> = Currency::all()
        .map(|c| match c.code() {
            "EUR" => (c, Some(107_000_000)),
            "SEK" => (c, Some(9_500_000)),
            "USD" => (c, Some(100_000_000)),
            _ => (c, None),
        })
        .collect();
    tx.commit().await?;
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&built).await?;
    tx.commit().await?;

    let none = PartnerClientFilter::default();
    let all = PageReq { page: 1, size: 100 };
    #[rustfmt::skip]
    let checks: Vec<(&str, PartnerClientFilter, ClientOrder, PageReq)> = vec![
        ("newest first", none.clone(), ClientOrder::LinkedDesc, all),
        ("oldest first", none.clone(), ClientOrder::LinkedAsc, all),
        ("page 2 of 3", none.clone(), ClientOrder::LinkedDesc, PageReq { page: 2, size: 2 }),
        ("past the end", none.clone(), ClientOrder::LinkedAsc, PageReq { page: 4, size: 2 }),
        ("name ascending", none.clone(), ClientOrder::NameAsc, all),
        ("name descending, page 2", none.clone(), ClientOrder::NameDesc, PageReq { page: 2, size: 2 }),
        ("attributed", PartnerClientFilter { is_attributed: Some(true), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("onboarding pending", PartnerClientFilter { onboarding_done: Some(false), ..none.clone() }, ClientOrder::LinkedAsc, all),
        ("tenant", PartnerClientFilter { external_tenant_id: Some("t-3".into()), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("linked range", PartnerClientFilter { linked_from: Some(t(2 * HOUR)), linked_to: Some(t(4 * HOUR)), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("query: name", PartnerClientFilter { query: Some("ÅLBORG".into()), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("query: short", PartnerClientFilter { query: Some("ac".into()), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("query: tenant", PartnerClientFilter { query: Some("t-5".into()), ..none.clone() }, ClientOrder::LinkedAsc, all),
        ("query: none match", PartnerClientFilter { query: Some("rival".into()), ..none.clone() }, ClientOrder::LinkedDesc, all),
        ("query, by name", PartnerClientFilter { query: Some("o".into()), ..none.clone() }, ClientOrder::NameDesc, all),
    ];
    let mut seen_users = 0;
    for (what, f, order, page) in checks {
        let mut tx = store.read().await?;
        let (ids, total) = tx.partner_client_page(s.p, &f, order, page).await?;
        let (want, client_ids) = client_page_by_parts(&mut tx, s.p, &ids, total, day).await?;
        let of = match order {
            ClientOrder::LinkedDesc | ClientOrder::LinkedAsc => refshare_store::ClientPageOf::Filtered(&f, order, page),
            _ => refshare_store::ClientPageOf::Links(&ids, total),
        };
        drop(tx);
        let mut one = store.read_statement().await?;
        let got = one.partner_client_page_rows(s.p, of, day).await?;
        drop(one);
        assert_eq!(got.totals, want.totals, "{what}: summary");
        assert_eq!(got.visible_cases, want.visible_cases, "{what}: visible cases");
        assert_eq!(got.total, want.total, "{what}: count");
        assert_eq!(got.items, want.items, "{what}: what the list shows of the links, in order, and of their clients and users");
        assert_eq!(got.case_counts, want.case_counts, "{what}: case counts");
        let mut rates = got.rates.clone();
        rates.sort();
        assert_eq!(rates, want.rates, "{what}: current rates");
        assert_eq!(rates, vec![("EUR".to_string(), 107_000_000), ("SEK".to_string(), 9_500_000)], "{what}");
        let current = [(eur, 107_000_000), (currency("SEK"), 9_500_000), (currency("USD"), 100_000_000)];
        let (usd, stale) = got.earnings.usd(&current)?;
        assert!(stale.is_empty(), "{what}: every currency built at the day's rate: {stale:?}");
        let want_usd = store.read().await?.partner_client_earnings_usd(s.p, &client_ids, &current).await?;
        assert_eq!(usd, want_usd, "{what}: earnings per client");
        let from_rows = store.read().await?.partner_client_earnings_usd_from_rows(s.p, &client_ids, &current).await?;
        assert_eq!(usd, from_rows, "{what}: earnings per client, from the rows");
        seen_users = seen_users.max(got.items.iter().map(|i| i.users.len()).max().unwrap_or(0));
        if what == "newest first" {
            assert_eq!(got.items.len(), 5);
            assert_eq!(usd.len(), 4, "four clients with earnings");
            assert!(usd.values().any(|u| u.usd_missing > 0), "JPY has no rate");
        }
    }
    assert_eq!(seen_users, 2, "clients with two users were on a page");

    // A rate loaded since the estimates were built: EUR is stale, its rows aggregated apart.
    let mut tx = store.begin().await?;
    tx.put_fx_rate("EUR", "2024-03-04", 108_000_000).await?;
    tx.commit().await?;
    let got = store
        .read_statement()
        .await?
        .partner_client_page_rows(s.p, refshare_store::ClientPageOf::Filtered(&none, ClientOrder::LinkedDesc, all), day)
        .await?;
    let current = [(eur, 108_000_000), (currency("SEK"), 9_500_000)];
    let (_, stale) = got.earnings.usd(&current)?;
    assert_eq!(stale.into_iter().collect::<Vec<_>>(), vec![eur]);

    // Another partner: nothing, all zero.
    let other = store
        .read_statement()
        .await?
        .partner_client_page_rows(Uuid::new_v4(), refshare_store::ClientPageOf::Filtered(&none, ClientOrder::LinkedDesc, all), day)
        .await?;
    assert_eq!((other.totals, other.visible_cases, other.total), (Default::default(), 0, 0));
    assert!(other.items.is_empty() && other.earnings.usd(&current)?.0.is_empty());
    Ok(())
}
