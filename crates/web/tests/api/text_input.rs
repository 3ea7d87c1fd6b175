//! Bad text never becomes a 500. Every operation of the OpenAPI document (which
//! `tests/openapi.rs` keeps in step with the router) is sent U+0000 in each path parameter,
//! each documented query parameter, each string and each property name of a valid body,
//! one at a time, on both backends. Control characters are refused where text is parsed,
//! with a 400 naming the field; tab and newline pass in free-text fields only.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Map, Value};

use crate::harness::{case_body, client_body, Resp, TestApp, ADMIN_TOKEN};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Ids and credentials of a small world: a partner with an onboarded, paid client.
pub struct Seed {
    pub partner_id: String,
    pub key: String,
    pub token: String,
    pub client_id: String,
    pub link_id: String,
    pub key_id: String,
    pub case_id: String,
    pub case_ref: String,
    pub payment_id: String,
}

pub async fn seed(t: &TestApp) -> Seed {
    t.collection_partners().await;
    let (partner_id, key) = t.new_partner("Ledgerly").await;
    let (case_ref, payment_id) = crate::disputes::attributed_paid(t, &key, "acme").await;
    let links = t.admin("GET", &format!("/links?partnerId={partner_id}"), None).await;
    let link_id = links.body["links"][0]["id"].as_str().expect("a link").to_string();
    let client_id = links.body["links"][0]["clientId"].as_str().expect("a client").to_string();
    let keys = t.admin("GET", &format!("/partners/{partner_id}/api-keys"), None).await;
    let key_id = keys.body["apiKeys"][0]["id"].as_str().expect("a key").to_string();
    let cases = t.partner(&key, "GET", "/cases", None).await;
    let case_id = cases.body["cases"][0]["id"].as_str().expect("a case").to_string();
    let minted = t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
    let token = minted.body["accessToken"].as_str().unwrap().to_string();
    Seed { partner_id, key, token, client_id, link_id, key_id, case_id, case_ref, payment_id }
}

/// A valid value for a documented path parameter.
pub fn path_value(template: &str, name: &str, s: &Seed) -> String {
    let unknown = uuid::Uuid::new_v4().to_string();
    match name {
        "externalTenantId" => "acme".into(),
        "caseIdOrReference" | "reference" | "caseReference" => s.case_ref.clone(),
        "creditorReference" => "acme-1".into(),
        "clientId" => s.client_id.clone(),
        "linkId" => s.link_id.clone(),
        "keyId" => s.key_id.clone(),
        "period" => "2026-03".into(),
        "token" => "not-a-token".into(),
        "id" if template.contains("/partners/") => s.partner_id.clone(),
        "id" if template.contains("/payments/") => s.payment_id.clone(),
        "id" if template.contains("/cases/") => s.case_id.clone(),
        _ => unknown,
    }
}

/// A valid body for the operations that take one; others get one built from the schema.
pub fn sample_body(method: &str, template: &str, s: &Seed) -> Option<Value> {
    let mut case = case_body("NUL-1", "100", "GBP", "GB");
    case["comments"] = json!("a comment");
    case["debtor"]["address"] = json!("1 High Street");
    Some(match (method, template) {
        ("POST", "/admin-api/v1/cases/{caseIdOrReference}/payments") => json!({"amount": 10, "externalId": "nul-pay-1"}),
        ("POST", "/admin-api/v1/clients") => json!({
            "companyName": "Direct Ltd", "country": "GB", "supportEmail": "d@direct.test", "registrationNumber": "R-1",
            "users": [{"name": "Dee Rect", "email": "d@direct.test"}], "onboardingDone": true,
        }),
        ("POST", "/admin-api/v1/clients/{clientId}/cases") | ("POST", "/customer-api/cases") => case,
        ("POST", "/admin-api/v1/collection-partners") => {
            json!({"name": "Alpine Inkasso", "countries": ["AT"], "successFeePercentage": 10, "platformSharePercentage": 10})
        }
        ("POST", "/admin-api/v1/disputes/{id}/resolve") => json!({"outcome": "rejected", "reason": "not ours"}),
        ("POST", "/admin-api/v1/fx-rates") => json!({"date": "2026-01-02", "rates": [{"currency": "GBP", "usdPerUnit": 1.3}]}),
        ("POST", "/admin-api/v1/invoicing/collection-partners/run") => json!({"period": "2026-02"}),
        (_, t) if t.starts_with("/admin-api/v1/links/{linkId}") => json!({"reason": "asked by the client"}),
        ("POST", "/admin-api/v1/partner-invoices") => json!({"partnerId": s.partner_id}),
        ("POST", "/admin-api/v1/partners") => json!({
            "companyName": "Northwind", "contactEmail": "ops@northwind.test", "invoicingTriggerMode": "ImmediateOnPayment",
            "branding": {"logoUrl": "https://northwind.test/logo.png", "backgroundColorCode": "#112233", "fontColor": "#ffffff", "fontFamily": "Georgia"},
        }),
        ("PATCH", "/admin-api/v1/partners/{id}") => json!({"companyName": "Ledgerly Two"}),
        ("DELETE", "/admin-api/v1/payments/{id}") => json!({"reason": "booked twice"}),
        ("POST", "/referral-api/clients") => {
            client_body("nul-tenant", "Nul Ltd", "nul@nul.test", vec![case_body("N-1", "100", "GBP", "GB")])
        }
        ("POST", "/referral-api/disputes") => json!({
            "caseReference": s.case_ref, "externalTenantId": "acme", "creationMethod": "through our integration",
            "expectedOutcome": "a fee", "observation": "the check says otherwise",
        }),
        ("POST", "/referral-api/oauth/token") => json!({"externalTenantId": "acme"}),
        ("POST", "/referral-api/v1/Webhooks") | ("PUT", "/referral-api/v1/Webhooks/{id}") => {
            json!({"url": "https://93.184.215.14/hook", "events": ["case.created"]})
        }
        ("POST", "/referral-api/v1/Webhooks/test") => json!({"eventType": "case.created", "externalTenantId": "acme"}),
        ("POST", "/onboarding/{linkId}") => json!({"signer_name": "Ann Acme", "accept": "yes", "csrf": "x"}),
        ("POST", "/link-requests/{token}") => json!({"decision": "approve", "csrf": "x"}),
        _ => return None,
    })
}

/// A value of `schema` whose strings are all `"x"` (for operations without a sample).
pub fn from_schema(doc: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        return from_schema(doc, &doc["components"]["schemas"][name], depth + 1);
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(first) = schema[key].as_array().and_then(|a| a.iter().find(|s| s["type"] != "null")) {
            return from_schema(doc, first, depth + 1);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"object") || schema.get("properties").is_some() {
        let mut out = Map::new();
        for (k, v) in schema["properties"].as_object().into_iter().flatten() {
            out.insert(k.clone(), from_schema(doc, v, depth + 1));
        }
        Value::Object(out)
    } else if types.contains(&"array") {
        json!([from_schema(doc, &schema["items"], depth + 1)])
    } else if types.contains(&"string") {
        json!("x")
    } else if types.contains(&"integer") || types.contains(&"number") {
        json!(1)
    } else if types.contains(&"boolean") {
        json!(false)
    } else {
        Value::Null
    }
}

/// Every string leaf of `v`, as (field path as the service names it, pointer).
fn string_leaves(v: &Value, field: &str, pointer: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(_) => out.push((field.to_string(), pointer.to_string())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                string_leaves(x, &format!("{field}[{i}]"), &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let f = if field.is_empty() { k.clone() } else { format!("{field}.{k}") };
                string_leaves(x, &f, &format!("{pointer}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn form_of(v: &Value) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, x) in v.as_object().into_iter().flatten() {
        form.append_pair(k, x.as_str().unwrap_or_default());
    }
    form.finish()
}

struct Probe<'a> {
    t: &'a TestApp,
    s: &'a Seed,
    failures: Vec<String>,
    sent: usize,
}

impl Probe<'_> {
    async fn send(&mut self, method: &str, uri: &str, extra: &[(&str, &str)], body: Option<(&str, String)>) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        let bearer = format!("Bearer {}", self.s.token);
        let admin = format!("Bearer {ADMIN_TOKEN}");
        if uri.starts_with("/admin-api/") {
            b = b.header("authorization", admin);
        } else if uri.starts_with("/referral-api/") {
            b = b.header("XApiKey", self.s.key.as_str());
        } else if uri.starts_with("/customer-api/") {
            b = b.header("authorization", bearer);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let req = match body {
            Some((ct, text)) => b.header("content-type", ct).body(Body::from(text)),
            None => b.body(Body::empty()),
        }
        .expect("request");
        self.sent += 1;
        self.t.send(req).await
    }

    /// Records a failure unless the answer is below 500 and, when `named` is given, a 400
    /// that names that field.
    fn expect(&mut self, what: &str, r: &Resp, named: Option<&str>) {
        if r.status.is_server_error() {
            self.failures.push(format!("{what}: {} {}", r.status, r.text));
        } else if let Some(field) = named {
            if r.status != StatusCode::BAD_REQUEST || !r.text.contains(field) {
                self.failures.push(format!("{what}: expected a 400 naming `{field}`, got {} {}", r.status, r.text));
            }
        }
    }
}

async fn nul_never_becomes_a_500(t: TestApp) {
    let s = seed(&t).await;
    let doc = t.call("GET", "/openapi.json", &[], None).await.body;
    let mut p = Probe { t: &t, s: &s, failures: Vec::new(), sent: 0 };
    let mut covered = 0;
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let method = m.to_uppercase();
            let params: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
            let query: Vec<&str> = params.iter().filter(|x| x["in"] == "query").filter_map(|x| x["name"].as_str()).collect();
            let content = op["requestBody"]["content"].as_object();
            let is_page =
                !template.starts_with("/referral-api/") && !template.starts_with("/customer-api/") && !template.starts_with("/admin-api/");
            // The path with valid values, and its segments that are parameters.
            let segments: Vec<String> = template
                .split('/')
                .map(|seg| match seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                    Some(name) => path_value(template, name, &s),
                    None => seg.to_string(),
                })
                .collect();
            let param_at: Vec<usize> = template.split('/').enumerate().filter(|(_, seg)| seg.starts_with('{')).map(|(i, _)| i).collect();
            let path = segments.join("/");
            let json_sample = content
                .and_then(|c| c.get("application/json"))
                .map(|c| sample_body(&method, template, &s).unwrap_or_else(|| from_schema(&doc, &c["schema"], 0)));
            let form_sample = content
                .and_then(|c| c.get("application/x-www-form-urlencoded"))
                .map(|c| sample_body(&method, template, &s).unwrap_or_else(|| from_schema(&doc, &c["schema"], 0)));
            let valid_body = || match (&json_sample, &form_sample) {
                (Some(j), _) => Some(("application/json", j.to_string())),
                (None, Some(f)) => Some(("application/x-www-form-urlencoded", form_of(f))),
                _ => None,
            };
            if param_at.is_empty() && query.is_empty() && content.is_none() {
                continue;
            }
            covered += 1;
            // 1. Each path parameter.
            for &i in &param_at {
                let mut segs = segments.clone();
                segs[i] = format!("{}%00x", segs[i]);
                let name = template.split('/').nth(i).unwrap_or_default().trim_matches(['{', '}']);
                let r = p.send(&method, &segs.join("/"), &[], valid_body()).await;
                // The router's parameter names differ from the document's in places
                // (`{case}` for `{caseIdOrReference}`): the message names the rule.
                p.expect(
                    &format!("{method} {template} path {name}"),
                    &r,
                    if is_page { None } else { Some("must not contain control characters") },
                );
                if is_page && r.status == StatusCode::OK {
                    p.failures.push(format!("{method} {template}: a NUL in {name} answered 200"));
                }
            }
            // 2. Each documented query parameter.
            for q in &query {
                let uri = format!("{path}?{q}=a%00b");
                let r = p.send(&method, &uri, &[], valid_body()).await;
                p.expect(&format!("{method} {template} query {q}"), &r, Some(q));
            }
            // 3. Each string and one property name of the JSON body, with and without an
            //    Idempotency-Key on customer case creation.
            if let Some(sample) = &json_sample {
                let keys: &[Option<&str>] = if template == "/customer-api/cases" { &[None, Some("nul-key-1")] } else { &[None] };
                for key in keys {
                    let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
                    let mut leaves = Vec::new();
                    string_leaves(sample, "", "", &mut leaves);
                    for (field, pointer) in leaves {
                        let mut body = sample.clone();
                        let leaf = body.pointer_mut(&pointer).expect("leaf");
                        *leaf = json!(format!("{}\u{0}x", leaf.as_str().unwrap_or_default()));
                        let r = p.send(&method, &path, &extra, Some(("application/json", body.to_string()))).await;
                        p.expect(&format!("{method} {template} body {field} key {key:?}"), &r, Some(&field));
                    }
                    if let Some(obj) = sample.as_object() {
                        let mut body = obj.clone();
                        body.insert("note\u{0}".into(), json!(1));
                        let r = p.send(&method, &path, &extra, Some(("application/json", Value::Object(body).to_string()))).await;
                        p.expect(&format!("{method} {template} property name key {key:?}"), &r, Some("property name"));
                    }
                }
            }
            // 4. Each field of a page form.
            if let Some(sample) = &form_sample {
                for (k, _) in sample.as_object().into_iter().flatten() {
                    let mut body = sample.clone();
                    body[k] = json!(format!("{}\u{0}x", body[k].as_str().unwrap_or_default()));
                    let r = p.send(&method, &path, &[], Some(("application/x-www-form-urlencoded", form_of(&body)))).await;
                    p.expect(&format!("{method} {template} form {k}"), &r, None);
                    if r.status != StatusCode::BAD_REQUEST || !r.text.contains(k.as_str()) {
                        p.failures.push(format!("{method} {template} form {k}: expected a 400 page naming it, got {}", r.status));
                    }
                }
            }
            // 5. The CSV form of the FX rates.
            if content.is_some_and(|c| c.contains_key("text/csv")) {
                let r = p.send(&method, &path, &[], Some(("text/csv", "Date,USD\n2026-01-02\u{0},1.1\n".into()))).await;
                p.expect(&format!("{method} {template} csv"), &r, Some("body"));
            }
        }
    }
    eprintln!("{} probes over {covered} operations", p.sent);
    assert!(covered >= 45, "only {covered} operations take text: is the document complete?");
    assert!(p.failures.is_empty(), "{} of {} probes failed:\n{}", p.failures.len(), p.sent, p.failures.join("\n"));
    // Nothing was written by the refused requests.
    let cases = t.partner(&s.key, "GET", "/cases", None).await;
    assert_eq!(cases.body["page"]["totalResults"], 1, "{}", cases.text);
}

/// Tab and line breaks pass in free text (reasons, comments, observations) and are
/// refused everywhere else; the text is stored as given.
async fn free_text_keeps_tabs_and_line_breaks(t: TestApp) {
    let s = seed(&t).await;
    let multi = "First line\r\nsecond line\n\tindented";
    let mut case = case_body("FT-1", "100", "GBP", "GB");
    case["comments"] = json!(multi);
    case["claimDescription"] = json!(multi);
    let r = t.customer_bearer(&s.token, "POST", "/cases", Some(case.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(&json!(multi).to_string()), "stored as given: {}", r.text);
    for (pointer, field) in
        [("/debtor/name", "debtor.name"), ("/creditorReference", "creditorReference"), ("/currencyCode", "currencyCode")]
    {
        for c in ['\t', '\n', '\r', '\u{1b}'] {
            let mut bad = case_body("FT-2", "100", "GBP", "GB");
            *bad.pointer_mut(pointer).unwrap() = json!(format!("Acme{c}Ltd"));
            let r = t.customer_bearer(&s.token, "POST", "/cases", Some(bad)).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field} {c:?}: {}", r.text);
            assert_eq!(r.body["businessErrors"][0]["field"], field, "{}", r.text);
        }
    }
    let r = t.admin("POST", &format!("/links/{}/archive", s.link_id), Some(json!({"reason": "Asked by phone.\nTicket 42"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let link = t.admin("GET", &format!("/links/{}", s.link_id), None).await;
    assert!(link.text.contains("Asked by phone.\\nTicket 42"), "{}", link.text);
    let r = t.partner(&s.key, "GET", "/cases?Query=a%09b", None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a tab in a search: {}", r.text);
    assert_eq!(r.body["businessErrors"][0]["field"], "Query", "{}", r.text);
}

crate::both_backends!(nul_never_becomes_a_500, free_text_keeps_tabs_and_line_breaks);
