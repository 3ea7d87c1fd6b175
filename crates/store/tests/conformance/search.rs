//! Indexed search (issue 9): what the case and client searches match, what they must not
//! match (another partner's rows), input that looks like FTS syntax, renames; the query
//! plans use the indexes; and the SQL visibility fragment agrees with
//! `core::visibility::visible_to_partner` on generated data.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use refshare_core::attribution::CaseFacts;
use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::link::{Link, LinkStatus};
use refshare_core::visibility::visible_to_partner;
use refshare_store::{CaseFilter, CaseRecord, ClientRecord, PageReq, PartnerRecord, SdcaSignature, Store, Tx};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

const ALL: PageReq = PageReq { page: 1, size: 10_000 };

fn query(q: &str) -> CaseFilter {
    CaseFilter { query: Some(q.into()), ..Default::default() }
}

/// The references a partner's search finds, sorted; checks the total agrees.
async fn found(tx: &mut Tx, partner: Uuid, q: &str) -> TestResult<Vec<String>> {
    let (cases, total) = tx.partner_cases_page(partner, &query(q), ALL).await?;
    assert_eq!(total, cases.len() as i64, "total of {q:?}");
    let mut refs: Vec<String> = cases.into_iter().map(|c| c.reference).collect();
    refs.sort();
    Ok(refs)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Partner P sees the cases of "Nordlys Fiskeri A/S"; partner Q sees those of "Nordic
/// Öl & Co", whose texts match many of P's queries too.
struct Seeded {
    p: PartnerRecord,
    q: PartnerRecord,
    mine: ClientRecord,
    theirs: ClientRecord,
}

async fn seed(store: &Store) -> TestResult<Seeded> {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let mine = client("Nordlys Fiskeri A/S", t(0));
    let theirs = client("Nordic Öl & Co", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    tx.insert_client(&mine, &[]).await?;
    tx.insert_client(&theirs, &[]).await?;
    tx.insert_link(&link(&p, &mine, "Tenant-Mine-7", true, t(0)), ACTOR, None).await?;
    tx.insert_link(&link(&q, &theirs, "tenant-theirs-8", true, t(0)), ACTOR, None).await?;
    #[rustfmt::skip]
    let rows: [(&ClientRecord, &str, &str, &str); 5] = [
        (&mine, "REF-AAA-1", "Faktura 2024/17", "Østergaard ÆBLER ApS"),
        (&mine, "REF-BBB-2", "x", "Hansen & Søn"),
        (&mine, "REF-CCC-3", "y", "Zebra"),
        (&theirs, "REF-DDD-4", "Faktura 2024/18", "Østergaard Holding"),
        (&theirs, "REF-EEE-5", "z", "Hansen Nordlys"),
    ];
    for (i, (c, reference, creditor_reference, debtor)) in rows.into_iter().enumerate() {
        let x = CaseRecord {
            reference: reference.into(),
            creditor_reference: creditor_reference.into(),
            debtor_name: debtor.into(),
            ..case(c, i as i64, CaseSource::WebApp, t((i as i64 + 1) * HOUR))
        };
        tx.insert_case(&x).await?;
    }
    tx.commit().await?;
    Ok(Seeded { p, q, mine, theirs })
}

conformance!(case_search_matches_every_field_and_only_the_partners_rows);
async fn case_search_matches_every_field_and_only_the_partners_rows(store: Store) -> TestResult {
    let s = seed(&store).await?;
    let mut tx = store.begin().await?;
    #[rustfmt::skip]
    let checks: [(&str, &[&str]); 17] = [
        ("ref-aaa", &["REF-AAA-1"]),           // reference, any case
        ("BBB-2", &["REF-BBB-2"]),
        ("faktura 2024", &["REF-AAA-1"]),      // creditor reference; Q's "Faktura 2024/18" stays Q's
        ("2024/18", &[]),                      // only in Q's case
        ("ØSTERGAARD", &["REF-AAA-1"]),        // debtor name, non-ASCII case folded
        ("æbler", &["REF-AAA-1"]),
        ("hansen", &["REF-BBB-2"]),            // Q's "Hansen Nordlys" is not P's
        ("nordlys", &["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]), // client name: all of its cases
        ("FISKERI a/s", &["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]),
        ("öl & co", &[]),                      // Q's client name
        ("zebra", &["REF-CCC-3"]),
        ("ze", &["REF-CCC-3"]),                // two characters: the LIKE fallback
        ("Æ", &["REF-AAA-1"]),                 // one character, non-ASCII
        ("&", &["REF-BBB-2"]),
        ("/", &["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]), // "A/S" in the client name
        ("", &["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]),
        ("no such thing", &[]),
    ];
    for (q, expected) in checks {
        assert_eq!(found(&mut tx, s.p.id, q).await?, strs(expected), "P searches {q:?}");
    }
    assert_eq!(found(&mut tx, s.q.id, "nordlys").await?, strs(&["REF-EEE-5"]), "Q: its debtor, not P's client");
    assert_eq!(found(&mut tx, s.q.id, "öl").await?, strs(&["REF-DDD-4", "REF-EEE-5"]), "Q: its client, short");
    assert_eq!(found(&mut tx, s.q.id, "ÖL & CO").await?, strs(&["REF-DDD-4", "REF-EEE-5"]), "Q: its client, indexed");

    // The client's own list searches the same fields.
    let own = |q: &str| CaseFilter { query: Some(q.into()), ..Default::default() };
    assert_eq!(tx.client_cases_page(s.mine.id, &own("ØSTERGAARD"), ALL).await?.1, 1);
    assert_eq!(tx.client_cases_page(s.theirs.id, &own("østergaard"), ALL).await?.1, 1);
    assert_eq!(tx.client_cases_page(s.mine.id, &own("2024/18"), ALL).await?.1, 0);
    Ok(())
}

conformance!(merging_the_search_indexes_keeps_every_answer);
/// `Tx::merge_search_indexes` (migration 0043's statements, run by the seed after its bulk
/// load) after writes in several transactions (several FTS5 segments on SQLite): the case,
/// earnings-candidate and client searches answer the same before and after, and writes
/// after the merge are found too.
async fn merging_the_search_indexes_keeps_every_answer(store: Store) -> TestResult {
    let s = seed(&store).await?;
    for i in 0..4i64 {
        let mut tx = store.begin().await?;
        let x = CaseRecord {
            reference: format!("REF-MRG-{i}"),
            debtor_name: format!("Merge Debtor {i}"),
            ..case(&s.mine, 100 + i, CaseSource::WebApp, t((10 + i) * HOUR))
        };
        tx.insert_case(&x).await?;
        tx.commit().await?;
    }
    let queries = ["ref-", "REF-MRG-2", "merge debtor", "nordlys", "hansen", "faktura 2024", "ze", "no such thing"];
    let answers = |store: Store, p: Uuid| async move {
        let mut tx = store.read().await?;
        let mut out = Vec::new();
        for q in queries {
            out.push((
                found(&mut tx, p, q).await?,
                tx.partner_any_link_cases(p, q).await?.map(|mut v| {
                    v.sort();
                    v
                }),
            ));
            out.push((tx.partner_clients_matching(p, q).await?.into_iter().map(|c| c.to_string()).collect(), None));
        }
        TestResult::Ok(out)
    };
    let before = answers(store.clone(), s.p.id).await?;
    assert_eq!(before[2].0, strs(&["REF-MRG-2"]));
    let mut tx = store.begin().await?;
    tx.merge_search_indexes().await?;
    tx.commit().await?;
    assert_eq!(answers(store.clone(), s.p.id).await?, before);
    assert_eq!(answers(store.clone(), s.q.id).await?.len(), before.len());
    let mut tx = store.begin().await?;
    let x = CaseRecord { reference: "REF-MRG-9".into(), ..case(&s.mine, 200, CaseSource::WebApp, t(30 * HOUR)) };
    tx.insert_case(&x).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(found(&mut tx, s.p.id, "ref-mrg-9").await?, strs(&["REF-MRG-9"]));
    assert_eq!(found(&mut tx, s.q.id, "ref-mrg").await?, Vec::<String>::new(), "never another partner's cases");
    Ok(())
}

conformance!(search_input_is_never_fts_syntax);
async fn search_input_is_never_fts_syntax(store: Store) -> TestResult {
    let p = partner("P", t(0));
    let c = client("Plain Client", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_client(&c, &[]).await?;
    tx.insert_link(&link(&p, &c, "tenant", true, t(0)), ACTOR, None).await?;
    let debtors = ["Say \"Hi\" Ltd", "Star*Corp", "This OR That", "NEAR(Town)", "-minus co", "col:on", "back\\slash"];
    for (i, debtor) in debtors.iter().enumerate() {
        let x = CaseRecord { debtor_name: debtor.to_string(), ..case(&c, i as i64, CaseSource::WebApp, t(HOUR)) };
        tx.insert_case(&x).await?;
    }
    tx.commit().await?;
    let mut tx = store.begin().await?;
    #[rustfmt::skip]
    let checks: [(&str, &[&str]); 17] = [
        ("\"hi\"", &["DEB-0"]),
        ("say \"", &["DEB-0"]),
        ("\"", &["DEB-0"]),
        ("\"\"", &[]),
        ("r*c", &["DEB-1"]),
        ("*", &["DEB-1"]),
        ("star*", &["DEB-1"]),
        ("is or th", &["DEB-2"]),
        ("OR", &["DEB-1", "DEB-2"]),       // "Star*Corp", "This OR That"
        (" OR ", &["DEB-2"]),
        ("near(", &["DEB-3"]),
        ("NEAR(", &["DEB-3"]),
        ("-minus", &["DEB-4"]),
        ("-", &["DEB-0", "DEB-1", "DEB-2", "DEB-3", "DEB-4", "DEB-5", "DEB-6"]), // every "DEB-n"
        ("col:on", &["DEB-5"]),
        ("k\\s", &["DEB-6"]),
        ("a OR b NOT c AND d", &[]),
    ];
    for (q, expected) in checks {
        assert_eq!(found(&mut tx, p.id, q).await?, strs(expected), "search {q:?}");
    }
    for q in ["\"a", "a\"", "(", ")", "^abc", "abc*", "{x}", "NOT", "AND", "a NEAR b", "x:y", "'; DROP TABLE cases; --"] {
        found(&mut tx, p.id, q).await?;
        tx.partner_clients_matching(p.id, q).await?;
    }
    Ok(())
}

conformance!(client_search_matches_company_name_or_tenant_of_active_links_only);
async fn client_search_matches_company_name_or_tenant_of_active_links_only(store: Store) -> TestResult {
    let s = seed(&store).await?;
    let archived = client("Nordlys Archive", t(0));
    let mut tx = store.begin().await?;
    tx.insert_client(&archived, &[]).await?;
    let mut l = link(&s.p, &archived, "tenant-archived", true, t(0));
    tx.insert_link(&l, ACTOR, None).await?;
    change_status(&mut tx, &mut l, LinkStatus::Archived, t(HOUR)).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let mine = vec![s.mine.id];
    #[rustfmt::skip]
    let checks: [(Uuid, &str, Vec<Uuid>); 11] = [
        (s.p.id, "nordlys", mine.clone()),     // not the archived link's client
        (s.p.id, "FISKERI", mine.clone()),
        (s.p.id, "tenant-mine", mine.clone()),
        (s.p.id, "TENANT", mine.clone()),      // tenant id, any case; not Q's
        (s.p.id, "e-7", mine.clone()),
        (s.p.id, "-7", mine.clone()),          // two characters
        (s.p.id, "a/", mine.clone()),
        (s.p.id, "theirs", vec![]),
        (s.p.id, "öl & co", vec![]),
        (s.q.id, "ÖL & CO", vec![s.theirs.id]),
        (s.q.id, "ö", vec![s.theirs.id]),
    ];
    for (partner, q, expected) in checks {
        assert_eq!(tx.partner_clients_matching(partner, q).await?, expected, "search {q:?}");
    }
    Ok(())
}

conformance!(a_renamed_client_is_found_by_its_new_name_in_the_same_transaction);
async fn a_renamed_client_is_found_by_its_new_name_in_the_same_transaction(store: Store) -> TestResult {
    let s = seed(&store).await?;
    let mut tx = store.begin().await?;
    tx.rename_client(s.mine.id, "Havbrug Vest").await?;
    assert_eq!(found(&mut tx, s.p.id, "havbrug").await?, strs(&["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]));
    assert_eq!(found(&mut tx, s.p.id, "fiskeri").await?, strs(&[]), "the old name is gone");
    assert_eq!(tx.partner_clients_matching(s.p.id, "HAVBRUG").await?, vec![s.mine.id]);
    assert_eq!(tx.partner_clients_matching(s.p.id, "fiskeri").await?, Vec::<Uuid>::new());
    drop(tx);
    let mut tx = store.begin().await?;
    assert_eq!(found(&mut tx, s.p.id, "havbrug").await?, strs(&[]), "rolled back");
    assert_eq!(found(&mut tx, s.p.id, "fiskeri").await?.len(), 3);
    // A new case is found at once, in its own transaction.
    tx.insert_case(&CaseRecord { debtor_name: "Brand New Debtor".into(), ..case(&s.mine, 99, CaseSource::WebApp, t(DAY)) }).await?;
    assert_eq!(found(&mut tx, s.p.id, "brand new").await?, strs(&["DEB-99"]));
    Ok(())
}

conformance!(partner_search_follows_links_archive_unarchive_and_relink);
/// The partner's part of the index follows its links: an archived link hides the client's
/// cases, unarchiving shows them again, a new link to another partner shows them to that
/// one only (and only the cases created from its `linkedAt` on); non-attributed clients
/// show only the cases the partner created through its API.
async fn partner_search_follows_links_archive_unarchive_and_relink(store: Store) -> TestResult {
    let s = seed(&store).await?;
    let r = partner("R", t(0));
    let other = client("Nordlys Shared", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&r).await?;
    tx.insert_client(&other, &[]).await?;
    // Non-attributed: only P's API cases (created from the link on) are P's.
    let mut l = link(&s.p, &other, "tenant-shared", false, t(2 * HOUR));
    tx.insert_link(&l, ACTOR, None).await?;
    let early = CaseRecord { debtor_name: "Shared Early".into(), ..case(&other, 10, CaseSource::PartnerApi, t(HOUR)) };
    let early = CaseRecord { creating_partner_id: Some(s.p.id), ..early };
    let api = CaseRecord {
        debtor_name: "Shared Api".into(),
        creating_partner_id: Some(s.p.id),
        ..case(&other, 11, CaseSource::PartnerApi, t(3 * HOUR))
    };
    let web = CaseRecord { debtor_name: "Shared Web".into(), ..case(&other, 12, CaseSource::WebApp, t(3 * HOUR)) };
    for c in [&early, &api, &web] {
        tx.insert_case(c).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(found(&mut tx, s.p.id, "shared").await?, strs(&["DEB-11"]), "before linkedAt and web cases are not P's");
    assert_eq!(found(&mut tx, s.p.id, "nordlys shared").await?, strs(&["DEB-11"]));
    change_status(&mut tx, &mut l, LinkStatus::Archived, t(4 * HOUR)).await?;
    assert_eq!(found(&mut tx, s.p.id, "shared").await?, strs(&[]), "archived");
    change_status(&mut tx, &mut l, LinkStatus::Active, t(5 * HOUR)).await?;
    assert_eq!(found(&mut tx, s.p.id, "shared").await?, strs(&["DEB-11"]), "unarchived");
    // Archived again, then linked (attributed) to R: R sees the cases from its link on.
    change_status(&mut tx, &mut l, LinkStatus::Archived, t(6 * HOUR)).await?;
    tx.insert_link(&link(&r, &other, "tenant-r", true, t(3 * HOUR)), ACTOR, None).await?;
    assert_eq!(found(&mut tx, r.id, "shared").await?, strs(&["DEB-11", "DEB-12"]));
    assert_eq!(found(&mut tx, r.id, "DEB-1").await?, strs(&["DEB-11", "DEB-12"]), "by reference, R's only");
    assert_eq!(found(&mut tx, s.p.id, "shared").await?, strs(&[]));
    assert_eq!(found(&mut tx, s.q.id, "shared").await?, strs(&[]));
    // A case created now is found by R at once; renaming the client follows in every part.
    tx.insert_case(&CaseRecord { debtor_name: "Shared Later".into(), ..case(&other, 13, CaseSource::WebApp, t(7 * HOUR)) }).await?;
    tx.rename_client(other.id, "Ørsted Fælles").await?;
    assert_eq!(found(&mut tx, r.id, "ØRSTED FÆL").await?, strs(&["DEB-11", "DEB-12", "DEB-13"]));
    assert_eq!(found(&mut tx, r.id, "nordlys").await?, strs(&[]), "the old name is gone");
    assert_eq!(found(&mut tx, s.p.id, "ørsted").await?, strs(&[]));
    // P's own cases are untouched by all of it.
    assert_eq!(found(&mut tx, s.p.id, "nordlys").await?, strs(&["REF-AAA-1", "REF-BBB-2", "REF-CCC-3"]));
    tx.commit().await?;
    Ok(())
}

conformance!(searches_use_their_indexes);
/// The plans printed here are the `EXPLAIN` check of the issue (run with `--nocapture`).
async fn searches_use_their_indexes(store: Store) -> TestResult {
    let s = seed(&store).await?;
    let backend = store.backend();
    let mut tx = store.begin().await?;
    tx.plan_as_if_large().await?;
    let cases = tx.partner_cases_plan(s.p.id, &query("Østergaard"), ALL).await?.join("\n");
    let clients = tx.partner_clients_matching_plan(s.p.id, "nordlys").await?.join("\n");
    let short = tx.partner_cases_plan(s.p.id, &query("ze"), ALL).await?.join("\n");
    println!("{backend:?} case search plan:\n{cases}\n\n{backend:?} client search plan:\n{clients}\n\n{backend:?} short case search plan:\n{short}\n");
    let (case_indexes, client_indexes): (&[&str], &[&str]) = match backend {
        refshare_store::Backend::Sqlite => (&["SCAN f VIRTUAL TABLE INDEX 0:M"], &["SCAN f VIRTUAL TABLE INDEX 0:M2><"]),
        // The partner's keys (0029); on a tiny table the planner may take their btree
        // over the GIN, which the 1M seed's plans do not (docs/PERFORMANCE.md).
        refshare_store::Backend::Postgres => (&["on partner_case_keys"], &["on link_search_keys"]),
    };
    for index in case_indexes {
        assert!(cases.contains(index), "case search uses {index}:\n{cases}");
    }
    for index in client_indexes {
        assert!(clients.contains(index), "client search uses {index}:\n{clients}");
    }
    assert!(!short.contains("cases_fts") && !short.contains("cases_search_trgm"), "short queries do not:\n{short}");
    if backend == refshare_store::Backend::Sqlite {
        // Only the partner's part, first: the scan of `partner_cases_fts f` carries the
        // rowid bounds (`M…><` in FTS5's index string: MATCH, rowid >= and rowid <=) and
        // is the outer loop, each match then found in the partner's visible set (0029).
        assert!(cases.contains("SCAN f VIRTUAL TABLE INDEX 0:M2><"), "{cases}");
        assert!(cases.contains("SEARCH c USING PRIMARY KEY (partner_rowid=? AND case_rowid=?)"), "{cases}");
        assert!(!cases.contains(" cases_fts"), "not the platform-wide index:\n{cases}");
        assert!(!clients.contains(" links_fts") && !clients.contains(" clients_fts"), "not the platform-wide indexes:\n{clients}");
    } else {
        // The search alone reads the partner's keys only, never a case row before the page.
        assert!(!cases.contains("cases_search_trgm"), "not the platform-wide index:\n{cases}");
        assert!(!clients.contains("links_tenant_trgm") && !clients.contains("clients_name_trgm"), "{clients}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The visibility rule: SQL fragment and core function agree on generated data
// ---------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so a failure names its seed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const SOURCES: [CaseSource; 5] =
    [CaseSource::WebApp, CaseSource::CsvImport, CaseSource::CustomerApi, CaseSource::Operator, CaseSource::PartnerApi];

/// An instant on a coarse grid, so cases often fall exactly on a link's `linkedAt`.
fn slot(n: u64) -> refshare_core::Instant {
    t(n as i64 * HOUR)
}

conformance!(visibility_sql_agrees_with_the_core_rule_on_generated_data);
async fn visibility_sql_agrees_with_the_core_rule_on_generated_data(store: Store) -> TestResult {
    let mut pairs = 0usize;
    let mut visible_pairs = 0usize;
    for seed in 1..=6u64 {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ seed);
        let partners: Vec<PartnerRecord> = (0..4).map(|i| partner(&format!("P{seed}-{i}"), t(0))).collect();
        let mut links: Vec<Link> = Vec::new();
        let mut cases: Vec<CaseRecord> = Vec::new();
        let mut tx = store.begin().await?;
        for p in &partners {
            tx.insert_partner(p).await?;
        }
        let mut clients = Vec::new();
        for ci in 0..25u64 {
            let c = client(&format!("C{seed}-{ci}"), t(0));
            tx.insert_client(&c, &[]).await?;
            clients.push(c.clone());
            // Links one after another (at most one active at a time), each but the last
            // ended; the last may stay active, end, or be archived and unarchived.
            let n_links = g.below(4);
            let mut at = g.below(4);
            for li in 0..n_links {
                let p = g.pick(&partners);
                let mut l = link(p, &c, &format!("t-{}", Uuid::new_v4()), g.below(2) == 0, slot(at));
                tx.insert_link(&l, ACTOR, None).await?;
                let last = li + 1 == n_links;
                let end = at + 1 + g.below(3);
                match (last, g.below(4)) {
                    (false, k) | (true, k @ (0 | 1)) => {
                        let status = if k % 2 == 0 { LinkStatus::Archived } else { LinkStatus::Deleted };
                        change_status(&mut tx, &mut l, status, slot(end)).await?;
                    }
                    (true, 2) => {
                        change_status(&mut tx, &mut l, LinkStatus::Archived, slot(end)).await?;
                        change_status(&mut tx, &mut l, LinkStatus::Active, slot(end + 1)).await?;
                    }
                    (true, _) => {}
                }
                links.push(l);
                at = end + 2;
            }
            for k in 0..g.below(7) {
                let source = *g.pick(&SOURCES);
                let creating = match (source, g.below(3)) {
                    (CaseSource::PartnerApi, 0) => None,
                    (CaseSource::PartnerApi, _) => Some(g.pick(&partners).id),
                    _ => None,
                };
                let number = (seed * 1_000 + ci * 10 + k) as i64;
                let x = CaseRecord { creating_partner_id: creating, ..case(&c, number, source, slot(g.below(16))) };
                tx.insert_case(&x).await?;
                cases.push(x);
            }
        }
        tx.commit().await?;

        let now = slot(40);
        let mut tx = store.begin().await?;
        for p in &partners {
            let (page, total) = tx.partner_cases_page(p.id, &CaseFilter::default(), ALL).await?;
            let by_sql: BTreeSet<Uuid> = page.iter().map(|c| c.id).collect();
            let by_core: BTreeSet<Uuid> = cases
                .iter()
                .filter(|c| {
                    let facts = CaseFacts { created_at: c.created_at, source: c.source, creating_partner: c.creating_partner_id };
                    links.iter().filter(|l| l.client_id == c.client_id).any(|l| visible_to_partner(p.id, facts, l, now))
                })
                .map(|c| c.id)
                .collect();
            assert_eq!(by_sql, by_core, "seed {seed}, partner {}", p.company_name);
            assert_eq!(total, by_core.len() as i64, "seed {seed}: total");
            // Every case's reference contains "deb-": the partner's search finds exactly
            // its visible cases (the partner's part of the index follows the link churn).
            let (found, found_total) = tx.partner_cases_page(p.id, &query("deb-"), ALL).await?;
            assert_eq!(found.iter().map(|c| c.id).collect::<BTreeSet<Uuid>>(), by_core, "seed {seed}: search");
            assert_eq!(found_total, total, "seed {seed}: search total");
            let (by_lifecycle, _) = tx.partner_case_counts(p.id, t(0)).await?;
            assert_eq!(by_lifecycle.iter().map(|(_, n)| n).sum::<i64>(), total, "seed {seed}: counts");
            check_client_tallies(&mut tx, p.id, &clients, &links, &cases, &by_core, &format!("seed {seed}")).await?;
            pairs += cases.len();
            visible_pairs += by_core.len();
        }
        drop(tx);
        churn_and_check_tallies(&store, &mut g, seed, &partners, &clients, &mut links, &mut cases).await?;
    }
    // The generator must produce both outcomes in quantity, or the test proves nothing.
    assert!(visible_pairs > 20 && pairs - visible_pairs > 200, "{visible_pairs} visible of {pairs} pairs");
    Ok(())
}

/// The partner's per-client tallies (migration 0036) equal, client by client, the count
/// through the visibility fragment and the core rule's visible cases (`by_core`): how
/// many the partner sees and how many of those are closed. Zero tallies count as absent.
/// Its client totals (0036) equal the count over its active links.
async fn check_client_tallies(
    tx: &mut Tx,
    partner: Uuid,
    clients: &[ClientRecord],
    links: &[Link],
    cases: &[CaseRecord],
    by_core: &BTreeSet<Uuid>,
    label: &str,
) -> TestResult {
    let totals = tx.partner_client_totals(partner).await?;
    assert_eq!(totals, tx.partner_client_totals_from_links(partner).await?, "{label}: client totals");
    let active: Vec<&Link> = links.iter().filter(|l| l.partner_id == partner && l.current_status() == LinkStatus::Active).collect();
    let live = |l: &&&Link| clients.iter().any(|c| c.id == l.client_id);
    assert_eq!(totals.clients, active.iter().filter(live).count() as i64, "{label}: linked clients");
    assert_eq!(totals.attributed, active.iter().filter(live).filter(|l| l.is_attributed).count() as i64, "{label}: attributed");
    let ids: Vec<Uuid> = clients.iter().map(|c| c.id).collect();
    let nonzero = |m: HashMap<Uuid, (i64, i64)>| m.into_iter().filter(|(_, v)| *v != (0, 0)).collect::<BTreeMap<_, _>>();
    let mut core: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    for c in cases.iter().filter(|c| by_core.contains(&c.id)) {
        let e = core.entry(c.client_id).or_default();
        e.0 += 1;
        e.1 += i64::from(c.lifecycle == Lifecycle::Closed);
    }
    let tallied = nonzero(tx.partner_case_counts_by_client(partner, &ids).await?);
    assert_eq!(tallied, nonzero(tx.partner_case_counts_by_client_from_cases(partner, &ids).await?), "{label}: client tallies vs SQL");
    assert_eq!(tallied, core, "{label}: client tallies vs the core rule");
    Ok(())
}

/// Link churn (archive, unarchive), lifecycle changes, cases in later months and a deleted
/// client after the generated history: each partner's case tallies (migration 0026) stay
/// equal to the visibility rule's own count (the SQL fragment, and the core rule for the
/// total), for "this month" in several months.
async fn churn_and_check_tallies(
    store: &Store,
    g: &mut Gen,
    seed: u64,
    partners: &[PartnerRecord],
    clients: &[ClientRecord],
    links: &mut [Link],
    cases: &mut Vec<CaseRecord>,
) -> TestResult {
    const LIFECYCLES: [Lifecycle; 4] = [Lifecycle::PendingContractSigning, Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed];
    let mut tx = store.begin().await?;
    for l in links.iter_mut() {
        if l.current_status() == LinkStatus::Active && g.below(2) == 0 {
            change_status(&mut tx, l, LinkStatus::Archived, slot(41)).await?;
            if g.below(2) == 0 {
                change_status(&mut tx, l, LinkStatus::Active, slot(42)).await?;
            }
        }
    }
    for x in cases.iter_mut() {
        if g.below(3) == 0 {
            x.lifecycle = *g.pick(&LIFECYCLES);
            tx.update_case_state(x).await?;
        }
    }
    for (ci, c) in clients.iter().enumerate() {
        for k in 0..g.below(3) {
            let number = (seed * 1_000_000 + ci as u64 * 10 + k) as i64;
            let x = case(c, number, *g.pick(&SOURCES), t((1 + g.below(3) as i64) * 31 * DAY));
            tx.insert_case(&x).await?;
            cases.push(x);
        }
    }
    let gone = g.pick(clients).id;
    for c in clients.iter().filter(|c| c.id != gone && g.below(2) == 0) {
        let sig = SdcaSignature {
            signer_name: "Karen Blixen".into(),
            signed_at: slot(43),
            ip: "203.0.113.7".into(),
            user_agent: "test".into(),
            version: "SDCA-2024-01".into(),
            signer_user_id: None,
            verified_by: None,
        };
        assert!(tx.complete_onboarding(c.id, &sig).await?);
    }
    tx.delete_client_cascade(gone).await?;
    cases.retain(|x| x.client_id != gone);
    tx.commit().await?;
    let remaining: Vec<ClientRecord> = clients.iter().filter(|c| c.id != gone).cloned().collect();

    let now = slot(24 * 200);
    let mut tx = store.read().await?;
    for p in partners {
        for month_of in [t(0), t(31 * DAY), t(62 * DAY), t(93 * DAY), t(400 * DAY)] {
            let tallied = tx.partner_case_counts(p.id, month_of).await?;
            assert_eq!(tallied, tx.partner_case_counts_from_cases(p.id, month_of).await?, "seed {seed}, {}", p.company_name);
        }
        let by_core: BTreeSet<Uuid> = cases
            .iter()
            .filter(|c| {
                let facts = CaseFacts { created_at: c.created_at, source: c.source, creating_partner: c.creating_partner_id };
                links.iter().filter(|l| l.client_id == c.client_id).any(|l| visible_to_partner(p.id, facts, l, now))
            })
            .map(|c| c.id)
            .collect();
        assert_eq!(tx.partner_visible_case_count(p.id).await?, by_core.len() as i64, "seed {seed}: total after churn");
        check_client_tallies(&mut tx, p.id, &remaining, links, cases, &by_core, &format!("seed {seed} after churn")).await?;
        // The search alone reads the partner's visible set (migration 0029), with filters
        // the rule's fragment: both find exactly the visible cases.
        let (found, found_total) = tx.partner_cases_page(p.id, &query("deb-"), ALL).await?;
        assert_eq!(found.iter().map(|c| c.id).collect::<BTreeSet<Uuid>>(), by_core, "seed {seed}: search after churn");
        assert_eq!(found_total, by_core.len() as i64, "seed {seed}: search total after churn");
        let filtered = CaseFilter { created_from: Some(t(0)), ..query("deb-") };
        let (found, found_total) = tx.partner_cases_page(p.id, &filtered, ALL).await?;
        assert_eq!(found.iter().map(|c| c.id).collect::<BTreeSet<Uuid>>(), by_core, "seed {seed}: filtered search after churn");
        assert_eq!(found_total, by_core.len() as i64, "seed {seed}: filtered search total after churn");
    }
    Ok(())
}
