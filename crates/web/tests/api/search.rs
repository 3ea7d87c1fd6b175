//! `?Query=` on the partner's client and case lists (issue 9): company name, tenant id,
//! references and debtor names, any case, through the search index; never another
//! partner's rows; FTS syntax in the query is plain text.

use axum::http::StatusCode;
use serde_json::Value;

use crate::harness::{case_body, client_body, TestApp};

fn tenants(body: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        body["clients"].as_array().unwrap().iter().map(|c| c["externalTenantId"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

fn creditor_refs(body: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        body["cases"].as_array().unwrap().iter().map(|c| c["creditorReference"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

async fn search_lists_find_the_partners_rows_only(t: TestApp) {
    t.collection_partners().await;
    let (_, a) = t.new_partner("Alpha").await;
    let (_, b) = t.new_partner("Beta").await;
    for (key, tenant, company, email, creditor_ref) in [
        (&a, "crm-1001", "Østergaard Fiskeri A/S", "ann@oster.test", "FAK-17"),
        (&a, "crm-2002", "Acme Ltd", "ann@acme.test", "INV-9"),
        (&b, "crm-3003", "Nordlys Østergaard", "bo@nordlys.test", "FAK-18"),
    ] {
        let r = t
            .partner(key, "POST", "/clients", Some(client_body(tenant, company, email, vec![case_body(creditor_ref, "100", "GBP", "GB")])))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    }
    for (q, expected) in
        [("%C3%98STERGAARD", vec!["crm-1001"]), ("2002", vec!["crm-2002"]), ("CRM-", vec!["crm-1001", "crm-2002"]), ("nordlys", vec![])]
    {
        let r = t.partner(&a, "GET", &format!("/clients?Query={q}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(tenants(&r.body), expected, "clients ?Query={q}");
    }
    for (q, expected) in [
        ("fiskeri", vec!["FAK-17"]),          // the client's company name
        ("fak-1", vec!["FAK-17"]),            // creditor reference, not the other partner's FAK-18
        ("debtor%20of%20inv", vec!["INV-9"]), // debtor name
        ("nordlys", vec![]),
        ("%22%20OR%20NEAR(", vec![]), // `" OR NEAR(` is text
    ] {
        let r = t.partner(&a, "GET", &format!("/cases?Query={q}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(creditor_refs(&r.body), expected, "cases ?Query={q}");
        assert_eq!(r.body["page"]["totalResults"], expected.len(), "cases ?Query={q}");
    }
    let r = t.partner(&b, "GET", "/cases?Query=%C3%B8stergaard", None).await;
    assert_eq!(creditor_refs(&r.body), vec!["FAK-18"]);
}

crate::both_backends!(search_lists_find_the_partners_rows_only);
