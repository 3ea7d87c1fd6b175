//! The partner-partitioned sets behind the earnings search and the Cases tab (issue 9):
//! the cases of every client a partner has or had a link to (SQLite `partner_cases_fts`,
//! migration 0023; PostgreSQL `partner_cases_trgm`, migration 0035) follow every write that
//! changes them, in the writing transaction; the unfiltered Cases list (on PostgreSQL read
//! from `partner_case_keys` by creation, migration 0035) is the visible set, newest first,
//! on every page.

use std::collections::HashMap;

use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::link::LinkStatus;
use refshare_store::{Backend, CaseFilter, CaseRecord, PageReq, Store, Tx};
use sqlx::{AnyConnection, Connection, Executor};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

/// The references of the partner's candidate cases matching `q`, sorted, one entry per
/// stored row (so a case held twice shows twice).
async fn candidates(tx: &mut Tx, refs: &HashMap<Uuid, String>, partner: Uuid, q: &str) -> TestResult<Vec<String>> {
    let ids = tx.partner_any_link_cases(partner, q).await?.expect("an indexed query");
    let mut v: Vec<String> = ids.iter().map(|id| refs.get(id).cloned().unwrap_or_else(|| format!("unknown {id}"))).collect();
    v.sort();
    Ok(v)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn raw(url: &str, statements: &[String]) -> TestResult {
    let mut conn = AnyConnection::connect(url).await?;
    for s in statements {
        conn.execute(s.as_str()).await?;
    }
    conn.close().await?;
    Ok(())
}

conformance!(the_partners_any_link_cases_follow_links_cases_and_renames, with_url);
/// Every case of every client the partner has a link to, whatever the link's status: a
/// case inserted (one at a time or many in one statement), a link archived, deleted (its
/// status) or followed by another partner's, the same client linked twice (one row per
/// case, not two), a client renamed, a case's key changed, a link row removed (only the
/// last one of the pair empties the part), a client deleted; another partner's part never
/// holds them.
async fn the_partners_any_link_cases_follow_links_cases_and_renames(store: Store, url: String) -> TestResult {
    let (p, q, r) = (partner("P", t(0)), partner("Q", t(0)), partner("R", t(0)));
    let (alpha, beta, gamma) = (client("Alpha Fisk", t(0)), client("Beta Marine", t(0)), client("Gamma Trawl", t(0)));
    let mut refs: HashMap<Uuid, String> = HashMap::new();
    let mut tx = store.begin().await?;
    for x in [&p, &q, &r] {
        tx.insert_partner(x).await?;
    }
    for c in [&alpha, &beta, &gamma] {
        tx.insert_client(c, &[]).await?;
    }
    // Cases before any link: nobody's yet.
    let early = case(&alpha, 1, CaseSource::WebApp, t(HOUR));
    tx.insert_case(&early).await?;
    refs.insert(early.id, early.reference.clone());
    assert_eq!(candidates(&mut tx, &refs, p.id, "deb-").await?, strs(&[]));
    let mut pa = link(&p, &alpha, "p-alpha", true, t(2 * HOUR));
    tx.insert_link(&pa, ACTOR, None).await?;
    tx.insert_link(&link(&q, &beta, "q-beta", true, t(2 * HOUR)), ACTOR, None).await?;
    // Not attributed, then ended: none of its cases is visible to P, all are candidates.
    let mut pg = link(&p, &gamma, "p-gamma", false, t(2 * HOUR));
    tx.insert_link(&pg, ACTOR, None).await?;
    change_status(&mut tx, &mut pg, LinkStatus::Deleted, t(3 * HOUR)).await?;
    // Many cases in one statement, over clients with and without links.
    let bulk = vec![
        case(&alpha, 2, CaseSource::WebApp, t(4 * HOUR)),
        case(&beta, 3, CaseSource::WebApp, t(4 * HOUR)),
        case(&gamma, 4, CaseSource::CsvImport, t(4 * HOUR)),
    ];
    tx.bulk_cases(&bulk).await?;
    for c in &bulk {
        refs.insert(c.id, c.reference.clone());
    }
    assert_eq!(candidates(&mut tx, &refs, p.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-4"]), "the link arrives after DEB-1");
    assert_eq!(candidates(&mut tx, &refs, q.id, "deb-").await?, strs(&["DEB-3"]));
    assert_eq!(candidates(&mut tx, &refs, r.id, "deb-").await?, strs(&[]));
    assert_eq!(candidates(&mut tx, &refs, p.id, "gamma trawl").await?, strs(&["DEB-4"]), "by client name");
    assert_eq!(candidates(&mut tx, &refs, p.id, "beta").await?, strs(&[]), "Q's client");
    assert_eq!(candidates(&mut tx, &refs, p.id, "inv-2").await?, strs(&["DEB-2"]), "creditor reference");
    assert!(tx.partner_any_link_cases(p.id, "ab").await?.is_none(), "two characters: not from the index");
    tx.commit().await?;

    // P's link archived, Q links Alpha: both hold Alpha's cases, new ones too.
    let mut tx = store.begin().await?;
    change_status(&mut tx, &mut pa, LinkStatus::Archived, t(5 * HOUR)).await?;
    let mut qa = link(&q, &alpha, "q-alpha", true, t(5 * HOUR));
    tx.insert_link(&qa, ACTOR, None).await?;
    let later = case(&alpha, 5, CaseSource::WebApp, t(6 * HOUR));
    tx.insert_case(&later).await?;
    refs.insert(later.id, later.reference.clone());
    assert_eq!(candidates(&mut tx, &refs, p.id, "alpha fisk").await?, strs(&["DEB-1", "DEB-2", "DEB-5"]));
    assert_eq!(candidates(&mut tx, &refs, q.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-3", "DEB-5"]));
    // P links Alpha again: one row per case, however many links of the pair.
    change_status(&mut tx, &mut qa, LinkStatus::Archived, t(7 * HOUR)).await?;
    let pa2 = link(&p, &alpha, "p-alpha-2", true, t(7 * HOUR));
    tx.insert_link(&pa2, ACTOR, None).await?;
    let again = case(&alpha, 6, CaseSource::WebApp, t(8 * HOUR));
    tx.insert_case(&again).await?;
    refs.insert(again.id, again.reference.clone());
    assert_eq!(candidates(&mut tx, &refs, p.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-4", "DEB-5", "DEB-6"]));
    // A rename follows in every part; the old name is gone.
    tx.rename_client(alpha.id, "Ørsted Hav").await?;
    assert_eq!(candidates(&mut tx, &refs, p.id, "ØRSTED hav").await?, strs(&["DEB-1", "DEB-2", "DEB-5", "DEB-6"]));
    assert_eq!(candidates(&mut tx, &refs, q.id, "ørsted").await?, strs(&["DEB-1", "DEB-2", "DEB-5", "DEB-6"]));
    assert_eq!(candidates(&mut tx, &refs, p.id, "alpha").await?, strs(&[]));
    tx.commit().await?;

    // A case's key changed in place (no store method does it; the index must still follow).
    raw(&url, &[format!("UPDATE cases SET search_key = 'deb-2\ninv-2\nnew debtor name' WHERE id = '{}'", bulk[0].id)]).await?;
    let mut tx = store.read().await?;
    assert_eq!(candidates(&mut tx, &refs, p.id, "new debtor").await?, strs(&["DEB-2"]));
    assert_eq!(candidates(&mut tx, &refs, q.id, "new debtor").await?, strs(&["DEB-2"]));
    assert_eq!(candidates(&mut tx, &refs, p.id, "debtor 2").await?, strs(&[]));
    drop(tx);

    // Link rows removed: P keeps Alpha's cases while one of its two links remains.
    let remove_link =
        |id: Uuid| vec![format!("DELETE FROM link_events WHERE link_id = '{id}'"), format!("DELETE FROM links WHERE id = '{id}'")];
    raw(&url, &remove_link(pa.id)).await?;
    let mut tx = store.read().await?;
    assert_eq!(candidates(&mut tx, &refs, p.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-4", "DEB-5", "DEB-6"]));
    drop(tx);
    raw(&url, &remove_link(pa2.id)).await?;
    let mut tx = store.read().await?;
    assert_eq!(candidates(&mut tx, &refs, p.id, "deb-").await?, strs(&["DEB-4"]));
    assert_eq!(candidates(&mut tx, &refs, q.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-3", "DEB-5", "DEB-6"]));
    drop(tx);

    // A deleted client takes its cases out of every part.
    let mut tx = store.begin().await?;
    tx.delete_client_cascade(beta.id).await?;
    assert_eq!(candidates(&mut tx, &refs, q.id, "deb-").await?, strs(&["DEB-1", "DEB-2", "DEB-5", "DEB-6"]));
    tx.commit().await?;
    Ok(())
}

conformance!(the_unfiltered_case_list_is_the_visible_set_newest_first);
/// The Cases tab without filters: its offset and keyset pages and its count are the
/// visible set (the SQL rule, reached through a filter that keeps every case) in the same
/// order, ties on `created_at` broken by id, and follow an archived link at once.
async fn the_unfiltered_case_list_is_the_visible_set_newest_first(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (a, b, c) = (client("Client A", t(0)), client("Client B", t(0)), client("Client C", t(0)));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    for x in [&a, &b, &c] {
        tx.insert_client(x, &[]).await?;
    }
    let mut pa = link(&p, &a, "p-a", true, t(HOUR));
    tx.insert_link(&pa, ACTOR, None).await?;
    tx.insert_link(&link(&p, &b, "p-b", false, t(HOUR)), ACTOR, None).await?;
    tx.insert_link(&link(&q, &c, "q-c", true, t(HOUR)), ACTOR, None).await?;
    let mut n = 0;
    for (i, x) in [&a, &b, &c].into_iter().enumerate() {
        for k in 0..6 {
            n += 1;
            // Pairs of cases at the same instant; one before the links.
            let at = if k == 0 { t(0) } else { t((2 + k / 2) * HOUR + i as i64) };
            let source = if k % 2 == 0 { CaseSource::PartnerApi } else { CaseSource::WebApp };
            let creating = (source == CaseSource::PartnerApi).then_some(p.id);
            tx.insert_case(&CaseRecord { creating_partner_id: creating, ..case(x, n, source, at) }).await?;
        }
    }
    tx.commit().await?;

    let every_lifecycle = CaseFilter {
        lifecycles: vec![Lifecycle::PendingContractSigning, Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed],
        ..CaseFilter::default()
    };
    let all = PageReq { page: 1, size: 1_000 };
    for (label, archived) in [("linked", false), ("A archived", true)] {
        let mut tx = store.begin().await?;
        if archived {
            change_status(&mut tx, &mut pa, LinkStatus::Archived, t(DAY)).await?;
        }
        let unfiltered = CaseFilter::default();
        let ids = |v: Vec<CaseRecord>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
        let want = ids(tx.partner_cases(p.id, &every_lifecycle, all).await?);
        assert_eq!(want.len(), if archived { 2 } else { 7 }, "{label}: A's 5 cases from the link on, B's 2 API cases");
        assert_eq!(ids(tx.partner_cases(p.id, &unfiltered, all).await?), want, "{label}: one page");
        assert_eq!(tx.partner_cases_count(p.id, &unfiltered).await?, want.len() as i64, "{label}: count");
        assert_eq!(tx.partner_visible_case_count(p.id).await?, want.len() as i64, "{label}: tallies");
        let (page, total) = tx.partner_cases_page(p.id, &unfiltered, PageReq { page: 2, size: 2 }).await?;
        assert_eq!((ids(page), total), (want.iter().skip(2).take(2).copied().collect(), want.len() as i64), "{label}: offset page");
        // Keyset pages of two.
        let mut walked = Vec::new();
        let mut f = CaseFilter::default();
        loop {
            let page = tx.partner_cases(p.id, &f, PageReq { page: 1, size: 2 }).await?;
            let Some(last) = page.last() else { break };
            f.after = Some(f.cursor_of(last));
            walked.extend(page.iter().map(|c| c.id));
        }
        assert_eq!(walked, want, "{label}: keyset pages");
        assert!(tx.partner_cases(q.id, &unfiltered, all).await?.iter().all(|x| x.client_id == c.id), "{label}: Q's own");
        tx.commit().await?;
    }

    // PostgreSQL reads the partner's visible set in index order (migration 0035).
    let mut tx = store.begin().await?;
    tx.plan_as_if_large().await?;
    let plan = tx.partner_cases_plan(p.id, &CaseFilter::default(), PageReq { page: 1, size: 25 }).await?.join("\n");
    println!("{:?} unfiltered case list plan:\n{plan}", store.backend());
    if store.backend() == Backend::Postgres {
        // On a tiny table the planner may sort a bitmap scan of it rather than walk it
        // backwards, which the 1M seed's plan does (docs/PERFORMANCE.md).
        assert!(plan.contains("on partner_case_keys_created"), "{plan}");
        assert!(!plan.contains(" on links") && !plan.contains("cases_partner_list"), "no link and no case before the page:\n{plan}");
    }
    Ok(())
}
