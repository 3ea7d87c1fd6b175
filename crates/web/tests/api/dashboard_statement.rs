//! The dashboard's statement page by section and keyset page (issue 10), on both
//! backends: the first page shows the totals, the earnings' and reversals' counts and
//! first lines with a link to the next page (the payouts that did not earn on a page of
//! their own); following the links gives every line of the section once,
//! in the order of the CSV (which has every line); the page's totals are those of the
//! Referral API's statement, which equal the sum of its lines; bad `section` and `after`
//! are a 400 page naming them; another partner's statement shows none of these lines.

use axum::http::StatusCode;
use serde_json::Value;

use crate::dashboard::{partner_user, signed_in};
use crate::disputes::{attributed_paid, non_attributed_paid};
use crate::harness::{case_body, dec, Jar, TestApp};

crate::both_backends!(the_statement_pages_through_each_section_and_totals_every_line, bad_section_or_position_is_a_400_page);

/// The fee cells (`<td class="num">… GBP</td>`, the first of each row) of the earnings
/// section's table on a page, and the page's link to the next one (unescaped).
fn earnings_of(html: &str) -> (Vec<String>, Option<String>) {
    let section = html.split("<section aria-labelledby=\"earnings\">").nth(1).expect("the earnings section");
    let section = section.split("</section>").next().unwrap();
    let mut fees = Vec::new();
    for row in section.split("<tr>").skip(2) {
        let cell = row.split("<td class=\"num\">").nth(1).expect("a fee cell");
        fees.push(cell.split("</td>").next().unwrap().trim_end_matches(" GBP").to_string());
    }
    let next = section.split("rel=\"next\"").next().filter(|_| section.contains("rel=\"next\"")).map(|before| {
        let href = before.rsplit("href=\"").next().unwrap();
        href.split('"').next().unwrap().replace("&amp;", "&")
    });
    (fees, next)
}

async fn the_statement_pages_through_each_section_and_totals_every_line(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    attributed_paid(&t, &key, "acme").await;
    let links = t.admin("GET", "/links", None).await;
    let client_id = links.body["links"][0]["clientId"].as_str().unwrap().to_string();
    let case = t.admin("POST", &format!("/clients/{client_id}/cases"), Some(case_body("acme-big", "100000", "GBP", "GB"))).await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    let reference = case.body["reference"].as_str().unwrap().to_string();
    // 55 more earnings, each fee different (3% of 1..=55 GBP): 56 lines, two pages of 50.
    for i in 1..=55 {
        let paid = t.pay(&reference, &format!("{i}.00"), &format!("big-{i}")).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    }
    let (not_earned_ref, _) = non_attributed_paid(&t, &key).await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "member").await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await;
    let month = t.app.now().format("%Y-%m").to_string();
    let base = format!("/dashboard/statements/{month}");

    let first = t.browse(&mut jar, &base, None, &[]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.text.contains("Earnings (56)") && first.text.contains("Reversals (0)"), "{}", first.text);
    assert!(!first.text.contains(&not_earned_ref), "the payouts that did not earn have their own page");
    let not_earned = t.browse(&mut jar, &format!("{base}?section=not-earned"), None, &[]).await;
    assert!(not_earned.text.contains("Payouts that did not earn (1)") && not_earned.text.contains(&not_earned_ref), "{}", not_earned.text);
    assert!(!not_earned.text.contains("<section aria-labelledby=\"earnings\">"), "one section");
    let (fees, mut next) = earnings_of(&first.text);
    assert_eq!(fees.len(), 50, "{}", first.text);
    let mut paged = fees;
    let mut pages = 1;
    while let Some(link) = next {
        assert!(link.starts_with(&format!("{base}?section=earnings&after=")), "{link}");
        let page = t.browse(&mut jar, &link, None, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(!page.text.contains(&not_earned_ref), "a section's page shows that section only");
        let (fees, n) = earnings_of(&page.text);
        paged.extend(fees);
        next = n;
        pages += 1;
    }
    assert_eq!(pages, 2);

    // The CSV has every line, in the same order; the API's totals are the sum of its lines
    // and the page shows them.
    let csv = t.browse(&mut jar, &format!("{base}.csv"), None, &[]).await;
    let csv_fees: Vec<String> =
        csv.text.split("\r\n").filter(|l| l.starts_with("earning,")).map(|l| l.split(',').nth(6).unwrap().to_string()).collect();
    assert_eq!(paged, csv_fees, "no line lost or repeated across pages");
    let mut sorted = paged.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 56);
    let api = t.partner(&key, "GET", &format!("/statements/{month}"), None).await;
    let totals = api.body["totals"]["byStage"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{}", api.text);
    let sum_cents: i64 = paged.iter().map(|f| f.replace('.', "").parse::<i64>().unwrap()).sum();
    let amount = totals[0]["amount"].clone();
    assert_eq!(amount, dec(&format!("{}.{:02}", sum_cents / 100, sum_cents % 100)));
    assert_eq!(totals[0]["count"], 56);
    let shown = |v: &Value| format!("{} GBP", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
    assert!(first.text.contains(&shown(&amount)), "the page's total {amount}: {}", first.text);
    let usd = api.body["totals"]["totalUsd"].clone();
    let usd_text = usd.as_str().map(str::to_string).unwrap_or_else(|| usd.to_string());
    assert!(first.text.contains(&format!("{usd_text} USD")), "the page's USD total {usd_text}");

    // Another partner's statement of the month has none of these lines.
    let (other, _) = t.new_partner("Otherco").await;
    partner_user(&t, &other, "oz@otherco.test", "admin").await;
    let mut theirs = signed_in(&t, "oz@otherco.test").await;
    let page = t.browse(&mut theirs, &base, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Earnings (0)") && !page.text.contains(&reference) && !page.text.contains(&not_earned_ref), "{}", page.text);
}

async fn bad_section_or_position_is_a_400_page(t: TestApp) {
    let (ledgerly, _) = t.new_partner("Ledgerly").await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "admin").await;
    let mut jar: Jar = signed_in(&t, "pat@ledgerly.test").await;
    for (query, names) in [
        ("section=everything", "section"),
        ("section=earnings&after=yesterday", "after"),
        ("after=1_00000000-0000-0000-0000-000000000000", "after"),
    ] {
        let r = t.browse(&mut jar, &format!("/dashboard/statements/2026-01?{query}"), None, &[]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.text);
        assert!(r.text.contains(names), "{query}: {}", r.text);
    }
    let ok = t
        .browse(&mut jar, "/dashboard/statements/2026-01?section=not-earned&after=1_00000000-0000-0000-0000-000000000000", None, &[])
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
}
