//! The hosted pages name the platform: its configured name, legal entity, support address,
//! terms and privacy links on the onboarding, approval, sign-in and error pages (and
//! nothing for what is not configured); the partner's branding without "us"; company
//! details without empty rows; the full agreement from a versioned file, downloadable, its
//! version stored with the signature; and a confirmation page that says what happens next.

use axum::http::StatusCode;
use refshare_app::agreement::{Agreement, Agreements};
use refshare_app::platform::Platform;
use serde_json::{json, Value};

use crate::harness::{case_body, client_body, path_of, Resp, TestApp};

/// The one way this module reads a hosted page (onboarding, approval): its HTML, which
/// must be a 200.
async fn page_html(t: &TestApp, path: &str) -> String {
    let r = t.call("GET", path, &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.text
}

/// A page that needs no session (sign-in, error pages, the download), with its status.
async fn fetch(t: &TestApp, path: &str) -> Resp {
    t.call("GET", path, &[], None).await
}

fn collectly() -> Platform {
    Platform {
        name: "Collectly".into(),
        legal_entity: Some("Collectly Services GmbH".into()),
        support_email: Some("help@collectly.example".into()),
        terms_url: Some("https://collectly.example/terms".into()),
        privacy_url: Some("https://collectly.example/privacy".into()),
    }
}

/// Everything the footer of a fully configured platform shows.
fn assert_platform_named(path: &str, html: &str) {
    for want in [
        "Collectly",
        "Collectly Services GmbH",
        r#"href="mailto:help@collectly.example""#,
        r#"href="https://collectly.example/terms""#,
        r#"href="https://collectly.example/privacy""#,
    ] {
        assert!(html.contains(want), "{path}: `{want}` missing from {html}");
    }
    // The sample agreement's text mentions the software; nothing else on the page does.
    let outside_agreement = match html.find("<div class=\"agreement\"") {
        Some(_) => html.replace(element(html, "div class=\"agreement\""), ""),
        None => html.to_string(),
    };
    assert!(
        !outside_agreement.to_lowercase().contains("refshare"),
        "{path}: the configured platform replaces the default name: {outside_agreement}"
    );
    assert_no_empty_elements(path, html);
}

fn assert_no_empty_elements(path: &str, html: &str) {
    for empty in ["<dd></dd>", "<dt></dt>", "<li></li>", "<ul></ul>", "<p></p>", r#"href="""#, "<footer></footer>"] {
        assert!(!html.contains(empty), "{path}: `{empty}` in {html}");
    }
}

/// The text from `<{start}` to the next closing tag of its name (no nesting of that name).
fn element<'a>(html: &'a str, start: &str) -> &'a str {
    let name = start.split_whitespace().next().unwrap_or(start);
    let from = html.find(&format!("<{start}")).unwrap_or_else(|| panic!("no <{start}> in {html}"));
    let end = html[from..].find(&format!("</{name}>")).map(|e| from + e).unwrap_or_else(|| panic!("no </{name}> in {html}"));
    &html[from..end]
}

/// A branded partner "Bookwise"; returns its API key.
async fn bookwise(t: &TestApp) -> String {
    let body = json!({"companyName": "Bookwise", "contactEmail": "partners@bookwise.test", "branding": {
        "backgroundColorCode": "#7c2d12", "fontColor": "#ffffff", "logoUrl": "https://bookwise.test/logo.png"}});
    let r = t.admin("POST", "/partners", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["apiKey"].as_str().unwrap().to_string()
}

/// Creates an attributed client with `client` as its company details and one case;
/// returns the creation response.
async fn new_client(t: &TestApp, key: &str, tenant: &str, client: Value, extra: Value) -> Resp {
    let email = client["supportEmail"].as_str().unwrap().to_string();
    let mut body = client_body(tenant, "x", &email, vec![case_body(&format!("{tenant}-1"), "500", "GBP", "GB")]);
    body["client"] = client;
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let r = t.partner(key, "POST", "/clients", Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    r
}

fn onboarding_path(created: &Resp) -> String {
    path_of(created.body["onboardingLinks"]["url"].as_str().unwrap())
}

async fn the_configured_platform_is_named_on_every_page(mut t: TestApp) {
    t.reconfigure(|c| c.platform = collectly()).await;
    t.collection_partners().await;
    let key = bookwise(&t).await;
    let created =
        new_client(&t, &key, "acme", json!({"name": "Acme Ltd", "country": "GB", "supportEmail": "ann@acme.test"}), json!({})).await;

    let onboarding = onboarding_path(&created);
    let html = page_html(&t, &onboarding).await;
    assert_platform_named(&onboarding, &html);
    assert!(html.contains("Bookwise works with Collectly to recover unpaid invoices for Acme Ltd"), "{html}");
    let header = element(&html, "header");
    assert!(header.contains("Bookwise") && header.contains("https://bookwise.test/logo.png"), "the partner's branding: {header}");
    assert!(header.contains("Debt collection by <strong>Collectly</strong>"), "the platform beside it: {header}");
    assert!(!html.contains(" us ") && !html.contains("works with us"), "{html}");

    // The approval page (409 for a client that exists).
    t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let conflict = t.partner(&key, "POST", "/clients", Some(client_body("nw", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.text);
    let approval = path_of(conflict.body["data"]["onboardingLinks"]["url"].as_str().unwrap());
    let html = page_html(&t, &approval).await;
    assert_platform_named(&approval, &html);
    assert!(html.contains("a share of Collectly's fee") && !html.contains("our fee"), "{html}");
    assert!(element(&html, "header").contains("Debt collection by <strong>Collectly</strong>"), "{html}");

    // The mails name it too.
    let mail = t.admin("GET", "/notifications?to=niels@nordwind.test&kind=link_approval_request", None).await;
    let body = mail.body["notifications"][0]["body"].as_str().unwrap_or_default();
    assert!(body.contains("your account with Collectly") && body.contains("Collectly's fee") && !body.contains(" us."), "{mail:?}");
    let mail = t.admin("GET", "/notifications?to=ann@acme.test&kind=onboarding_invitation", None).await;
    assert!(mail.body["notifications"][0]["body"].as_str().unwrap_or_default().contains("with Collectly"), "{mail:?}");

    // The sign-in page and error pages: the platform's own header and footer.
    for (path, status) in [
        ("/login", StatusCode::OK),
        ("/login/no-such-secret", StatusCode::GONE),
        ("/onboarding/not-a-uuid", StatusCode::NOT_FOUND),
        ("/link-requests/no-such-token", StatusCode::NOT_FOUND),
        ("/agreements/NO-SUCH-VERSION", StatusCode::NOT_FOUND),
    ] {
        let r = fetch(&t, path).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert_platform_named(path, &r.text);
        assert!(element(&r.text, "header").contains("Collectly"), "{path}: {}", r.text);
        assert!(element(&r.text, "title").contains("Collectly"), "{path}: {}", r.text);
    }
}

async fn an_unconfigured_platform_shows_its_default_name_and_no_empty_items(t: TestApp) {
    t.collection_partners().await;
    let key = bookwise(&t).await;
    let created =
        new_client(&t, &key, "acme", json!({"name": "Acme Ltd", "country": "GB", "supportEmail": "ann@acme.test"}), json!({})).await;
    let onboarding = onboarding_path(&created);
    let login = fetch(&t, "/login").await.text;
    let error = fetch(&t, "/onboarding/not-a-uuid").await.text;
    for (path, html) in [(onboarding.as_str(), page_html(&t, &onboarding).await), ("/login", login), ("/onboarding/not-a-uuid", error)] {
        let footer = element(&html, "footer");
        assert!(footer.contains("refshare"), "{path}: {footer}");
        for absent in ["<ul", "mailto:", "Terms of service", "Privacy notice", " · "] {
            assert!(!footer.contains(absent), "{path}: `{absent}` in {footer}");
        }
        assert_no_empty_elements(path, &html);
    }
}

async fn company_details_show_only_what_is_known(t: TestApp) {
    t.collection_partners().await;
    let key = bookwise(&t).await;
    let bare = new_client(&t, &key, "bare", json!({"name": "Bare Ltd", "country": "GB", "supportEmail": "b@bare.test"}), json!({})).await;
    let html = page_html(&t, &onboarding_path(&bare)).await;
    let details = element(&html, "dl");
    assert!(details.contains("Bare Ltd") && details.contains("b@bare.test"), "{details}");
    for absent in ["Registration number", "Address", "Support phone"] {
        assert!(!details.contains(absent), "no row for a missing value: {details}");
    }
    assert_eq!(details.matches("<dt>").count(), details.matches("<dd>").count(), "{details}");
    assert_no_empty_elements("bare", &html);

    // Only some parts of the address: joined without stray separators.
    let town = json!({"name": "Town Ltd", "country": "GB", "supportEmail": "t@town.test", "zipCode": "LS1 4AP", "city": "Leeds"});
    let html = page_html(&t, &onboarding_path(&new_client(&t, &key, "town", town, json!({})).await)).await;
    assert!(element(&html, "dl").contains("<dt>Address</dt><dd>LS1 4AP Leeds</dd>"), "{html}");

    let full = json!({"name": "Full Ltd", "country": "GB", "supportEmail": "f@full.test", "registrationNumber": "GB-0412",
        "address": "1 Bread Street", "zipCode": "LS1 4AP", "city": "Leeds"});
    let html = page_html(&t, &onboarding_path(&new_client(&t, &key, "full", full, json!({})).await)).await;
    let details = element(&html, "dl");
    assert!(details.contains("<dt>Registration number</dt><dd>GB-0412</dd>"), "{details}");
    assert!(details.contains("<dt>Address</dt><dd>1 Bread Street, LS1 4AP Leeds</dd>"), "{details}");
}

/// Writes an agreement file and returns its path (removed by the caller).
fn agreement_file(version: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("refshare-agreement-{}.md", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, format!("Version: {version}\n\n{text}")).unwrap();
    path
}

const ACME_TEXT: &str = "# Terms of collection\n\nThe client <b>instructs</b> the platform & its partners.\n\nSecond\nparagraph.\n";

async fn the_configured_agreement_is_shown_downloadable_and_signed(mut t: TestApp) {
    let path = agreement_file("ACME-SDCA-7", ACME_TEXT);
    let current = Agreement::load(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    t.reconfigure(|c| c.agreements = Agreements::only(current.clone())).await;
    t.collection_partners().await;
    let key = bookwise(&t).await;
    let created =
        new_client(&t, &key, "acme", json!({"name": "Acme Ltd", "country": "GB", "supportEmail": "ann@acme.test"}), json!({})).await;
    let onboarding = onboarding_path(&created);

    // The full text, escaped, in paragraphs, with its version and download link.
    let html = page_html(&t, &onboarding).await;
    let text = element(&html, "div class=\"agreement\"");
    assert!(text.contains("<h3>Terms of collection</h3>"), "{text}");
    assert!(text.contains("<p>The client &lt;b&gt;instructs&lt;/b&gt; the platform &amp; its partners.</p>"), "{text}");
    assert!(text.contains("<p>Second paragraph.</p>"), "{text}");
    assert!(html.contains("<strong>ACME-SDCA-7</strong>") && html.contains(r#"href="/agreements/ACME-SDCA-7""#), "{html}");
    assert!(!html.contains("SDCA-2026-01"), "the sample is not shown: {html}");

    let download = fetch(&t, "/agreements/ACME-SDCA-7").await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.text);
    assert_eq!(download.text, current.file_text());
    assert!(download.text.starts_with("Version: ACME-SDCA-7\n"));
    // Only kept versions are served.
    let sample = fetch(&t, "/agreements/SDCA-2026-01").await;
    assert_eq!(sample.status, StatusCode::NOT_FOUND);
    assert!(sample.text.contains("<h1>"), "the HTML error page: {}", sample.text);

    // Signing stores the version, and the confirmation shows it.
    let signed = t.submit_form(&onboarding, &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    assert!(
        signed.text.contains("<strong>ACME-SDCA-7</strong>") && signed.text.contains(r#"href="/agreements/ACME-SDCA-7""#),
        "{}",
        signed.text
    );
    let client_id = uuid::Uuid::parse_str(created.body["client"]["id"].as_str().unwrap()).unwrap();
    let mut tx = t.app.store.begin().await.unwrap();
    let client = tx.client(client_id).await.unwrap().unwrap();
    drop(tx);
    assert_eq!(client.sdca.expect("signed").version, "ACME-SDCA-7");

    // A newer agreement: the signed version stays downloadable while it is kept, and the
    // confirmation offers no broken link once it is not.
    let newer = Agreement::parse("Version: ACME-SDCA-8\n\nThe newer text.\n").unwrap();
    let keep = current.clone();
    t.reconfigure(|c| c.agreements = Agreements::new(newer.clone(), vec![keep]).unwrap()).await;
    assert_eq!(fetch(&t, "/agreements/ACME-SDCA-7").await.text, current.file_text());
    assert_eq!(fetch(&t, "/agreements/ACME-SDCA-8").await.status, StatusCode::OK);
    let done = page_html(&t, &onboarding).await;
    assert!(done.contains("Onboarding complete") && done.contains(r#"href="/agreements/ACME-SDCA-7""#), "{done}");
    t.reconfigure(|c| c.agreements = Agreements::only(newer)).await;
    assert_eq!(fetch(&t, "/agreements/ACME-SDCA-7").await.status, StatusCode::NOT_FOUND);
    let done = page_html(&t, &onboarding).await;
    assert!(done.contains("<strong>ACME-SDCA-7</strong>") && !done.contains(r#"href="/agreements/"#), "{done}");
}

async fn the_download_is_a_text_attachment(t: TestApp) {
    let r = t.router.clone();
    let req = axum::http::Request::builder().uri("/agreements/SDCA-2026-01").body(axum::body::Body::empty()).unwrap();
    let res = tower::ServiceExt::oneshot(r, req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(header("content-disposition"), r#"attachment; filename="SDCA-2026-01.txt""#);
    assert_eq!(header("x-content-type-options"), "nosniff");
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.starts_with("Version: SDCA-2026-01") && text.contains("SAMPLE"), "{text}");
}

async fn the_confirmation_says_what_happens_next(mut t: TestApp) {
    t.reconfigure(|c| c.platform = collectly()).await;
    t.collection_partners().await;
    let key = bookwise(&t).await;
    let created = new_client(
        &t,
        &key,
        "acme",
        json!({"name": "Acme Ltd", "country": "GB", "supportEmail": "ann@acme.test"}),
        json!({"returnUrl": "https://app.bookwise.test/settings"}),
    )
    .await;
    assert_eq!(created.body["caseResults"]["successfulCases"][0]["lifecycle"], "PendingContractSigning");
    let onboarding = onboarding_path(&created);
    let signed = t.submit_form(&onboarding, &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let after_reload = page_html(&t, &onboarding).await;
    for html in [&signed.text, &after_reload] {
        let main = element(html, "main");
        for want in [
            "Ann Acme signed the Standard Debt Collection Agreement for Acme Ltd on 2026-03-10 at 12:00 UTC",
            "<strong>SDCA-2026-01</strong>",
            r#"href="/agreements/SDCA-2026-01""#,
            "What happens next",
            "are now active",
            "a collection partner of Collectly that covers the debtor's country",
            "Bookwise has been told that you signed",
            r#"<a href="mailto:help@collectly.example">help@collectly.example</a>"#,
            r#"<a href="https://app.bookwise.test/settings">Back to Bookwise</a>"#,
        ] {
            assert!(main.contains(want), "`{want}` missing from {main}");
        }
        assert_platform_named(&onboarding, html);
    }
    // What the page says happened.
    let cases = t.partner(&key, "GET", "/cases", None).await;
    assert_eq!(cases.body["cases"][0]["lifecycle"], "Active", "{}", cases.text);
    assert_eq!(cases.body["cases"][0]["collectionPartner"], "Britannia Collect");
}

crate::both_backends!(
    the_configured_platform_is_named_on_every_page,
    an_unconfigured_platform_shows_its_default_name_and_no_empty_items,
    company_details_show_only_what_is_known,
    the_configured_agreement_is_shown_downloadable_and_signed,
    the_download_is_a_text_attachment,
    the_confirmation_says_what_happens_next,
);
