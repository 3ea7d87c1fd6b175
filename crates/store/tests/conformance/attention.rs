//! The Attention list's bounded reads (issue 10, `store::attention`): which rows each
//! returns, in which order, and never another partner's.

use refshare_core::case::CaseSource;
use refshare_store::Store;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

conformance!(recent_outside_cases_are_the_partners_non_attributed_clients_cases_newest_first);
async fn recent_outside_cases_are_the_partners_non_attributed_clients_cases_newest_first(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    // A and B: P's non-attributed clients; C: P's attributed one; D: Q's non-attributed one;
    // E: linked to P without attribution, but the link is archived.
    let (a, b, c, d, e) =
        (client("Alfa", t(0)), client("Bravo", t(0)), client("Charlie", t(0)), client("Delta", t(0)), client("Echo", t(0)));
    let mut tx = store.begin().await?;
    for x in [&p, &q] {
        tx.insert_partner(x).await?;
    }
    for x in [&a, &b, &c, &d, &e] {
        tx.insert_client(x, &[]).await?;
    }
    tx.insert_link(&link(&p, &a, "t-a", false, t(DAY)), ACTOR, None).await?;
    tx.insert_link(&link(&p, &b, "t-b", false, t(DAY)), ACTOR, None).await?;
    tx.insert_link(&link(&p, &c, "t-c", true, t(DAY)), ACTOR, None).await?;
    tx.insert_link(&link(&q, &d, "t-d", false, t(DAY)), ACTOR, None).await?;
    let mut archived = link(&p, &e, "t-e", false, t(DAY));
    tx.insert_link(&archived, ACTOR, None).await?;
    change_status(&mut tx, &mut archived, refshare_core::link::LinkStatus::Archived, t(2 * DAY)).await?;
    let since = t(10 * DAY);
    #[rustfmt::skip]
    let cases = [
        case(&a, 1, CaseSource::WebApp, t(12 * DAY)),        // shown
        case(&a, 2, CaseSource::CustomerApi, t(15 * DAY)),   // shown
        case(&b, 3, CaseSource::CsvImport, t(15 * DAY)),     // shown: same instant as 2, the id breaks the tie
        case(&a, 4, CaseSource::WebApp, t(9 * DAY)),         // before `since`
        partner_case(&a, 5, &p, t(13 * DAY)),                 // through P's own API
        partner_case(&b, 6, &q, t(14 * DAY)),                 // through another partner's API: shown
        case(&c, 7, CaseSource::WebApp, t(12 * DAY)),        // attributed client
        case(&d, 8, CaseSource::WebApp, t(12 * DAY)),        // Q's client
        case(&e, 9, CaseSource::WebApp, t(12 * DAY)),        // archived link
        case(&b, 10, CaseSource::Operator, t(11 * DAY)),     // shown
    ];
    for x in &cases {
        tx.insert_case(x).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let tie = {
        let (two, three) = (&cases[1], &cases[2]);
        if two.id > three.id {
            ["DEB-2", "DEB-3"]
        } else {
            ["DEB-3", "DEB-2"]
        }
    };
    let expected = [tie[0], tie[1], "DEB-6", "DEB-1", "DEB-10"];
    let found = tx.recent_outside_cases(p.id, since, 10).await?;
    let got: Vec<(&str, &str, &str)> =
        found.iter().map(|o| (o.case.reference.as_str(), o.external_tenant_id.as_str(), o.company_name.as_str())).collect();
    let tenant = |r: &str| if ["DEB-3", "DEB-6", "DEB-10"].contains(&r) { ("t-b", "Bravo") } else { ("t-a", "Alfa") };
    let want: Vec<(&str, &str, &str)> = expected.iter().map(|r| (*r, tenant(r).0, tenant(r).1)).collect();
    assert_eq!(got, want, "P's recent cases outside its integration, newest first");
    for o in &found {
        let stored = cases.iter().find(|x| x.id == o.case.id).expect("a seeded case");
        assert_eq!((o.case.client_id, o.case.created_at, o.case.source), (stored.client_id, stored.created_at, stored.source));
    }

    // The limit keeps the newest; a later `since` leaves the older ones out.
    let two: Vec<String> = tx.recent_outside_cases(p.id, since, 2).await?.into_iter().map(|o| o.case.reference).collect();
    assert_eq!(two, [tie[0], tie[1]]);
    let late: Vec<String> = tx.recent_outside_cases(p.id, t(14 * DAY), 10).await?.into_iter().map(|o| o.case.reference).collect();
    assert_eq!(late, [tie[0], tie[1], "DEB-6"]);

    // Q sees only its own client's case; P's clients' cases are not Q's.
    let theirs: Vec<(String, String)> =
        tx.recent_outside_cases(q.id, since, 10).await?.into_iter().map(|o| (o.case.reference, o.external_tenant_id)).collect();
    assert_eq!(theirs, [("DEB-8".to_string(), "t-d".to_string())]);
    Ok(())
}
