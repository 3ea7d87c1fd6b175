//! The hosted pages in a real headless Chromium (Debian's `chromium` + `chromium-driver`,
//! driven over WebDriver): a client's user signs in from the onboarding page through the
//! mailed link (read from the notification log, as an integrator does in `test`) and
//! signs the agreement, then another client's user signs in from the approval page the
//! same way and approves a link request, by typing and clicking like a person would.
//! Skipped with a notice when chromedriver is missing, unless `REFSHARE_REQUIRE_BROWSER=1`.
//!
//! With `REFSHARE_SCREENSHOTS=<dir>` the walk also saves a PNG of each page it passes
//! (1200 pixels wide, one 390 wide as a phone; at least 900 / 844 high and as high as the
//! page, so nothing is cut off) into that directory; `docs/screenshots/` keeps them.
//! Without it nothing is written and the test asserts the same.

#[path = "api/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::StatusCode;
use fantoccini::{ClientBuilder, Locator};
use harness::{case_body, client_body, path_of, TestApp};
use refshare_app::platform::Platform;
use serde_json::json;

struct Driver(Child, std::path::PathBuf);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts chromedriver, or explains why not.
async fn start_driver() -> Option<(Driver, u16)> {
    let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].into_iter().find(|p| std::path::Path::new(p).exists());
    let Some(exe) = exe else {
        if std::env::var("REFSHARE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("REFSHARE_REQUIRE_BROWSER=1 but chromedriver is not installed (apt-get install chromium chromium-driver)");
        }
        eprintln!("notice: skipping browser test: chromedriver not installed");
        return None;
    };
    let port = free_port();
    let profile = std::env::temp_dir().join(format!("refshare-chrome-{}", uuid::Uuid::new_v4().simple()));
    let child =
        Command::new(exe).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chromedriver");
    let driver = Driver(child, profile);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Some((driver, port));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(port: u16, profile: &std::path::Path) -> fantoccini::Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            format!("--user-data-dir={}", profile.display()),
        ]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await.expect("WebDriver session")
}

/// Serves the app on a loopback port; returns its base URL.
async fn serve(t: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = t.router.clone();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
    });
    format!("http://{addr}")
}

/// The directory `REFSHARE_SCREENSHOTS` names, if set.
fn screenshot_dir() -> Option<PathBuf> {
    std::env::var_os("REFSHARE_SCREENSHOTS").filter(|d| !d.is_empty()).map(PathBuf::from)
}

/// With `REFSHARE_SCREENSHOTS` set: the current page as `<dir>/<name>`, `width` CSS
/// pixels wide and at least `min_height` high, taller when the page is (the whole page,
/// footer included). Without it: nothing.
async fn screenshot(c: &fantoccini::Client, name: &str, width: u32, min_height: u32) {
    let Some(dir) = screenshot_dir() else { return };
    let number = |v: serde_json::Value| v.as_u64().expect("a number") as u32;
    c.set_window_size(width, min_height).await.unwrap();
    // The window's size includes whatever frame the browser draws around the viewport.
    let frame = number(c.execute("return window.outerHeight - window.innerHeight", vec![]).await.unwrap());
    let page = number(c.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap());
    c.set_window_size(width, min_height.max(page) + frame).await.unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

/// A desktop screenshot (see [`screenshot`]).
async fn shot(c: &fantoccini::Client, name: &str) {
    screenshot(c, name, 1200, 900).await;
}

/// The footer of a configured platform.
fn collectly() -> Platform {
    Platform {
        name: "Collectly".into(),
        legal_entity: Some("Collectly Services GmbH".into()),
        support_email: Some("help@collectly.example".into()),
        terms_url: Some("https://collectly.example/terms".into()),
        privacy_url: Some("https://collectly.example/privacy".into()),
    }
}

/// On a consent page without a fitting session: types `email` into the page's sign-in
/// form, follows the mailed link (from `GET /admin-api/v1/notifications`) and presses its
/// confirm button, which lands back on the page. `sent_shot` names a screenshot of the
/// "Check your e-mail" answer.
async fn sign_in_from_page(c: &fantoccini::Client, t: &TestApp, base: &str, email: &str, sent_shot: Option<&str>) {
    let page = c.current_url().await.unwrap().to_string();
    assert!(c.find_all(Locator::Css("#signer_name, button[value=approve]")).await.unwrap().is_empty(), "no consent form before sign-in");
    c.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h2[normalize-space()='Check your e-mail']")).await.unwrap();
    if let Some(name) = sent_shot {
        shot(c, name).await;
    }
    let mails = t.admin("GET", &format!("/notifications?to={email}&kind=sign_in"), None).await;
    let body = mails.body["notifications"][0]["body"].as_str().expect("a sign-in mail").to_string();
    let link = body.split("http://refshare.test").nth(1).and_then(|s| s.split_whitespace().next()).expect("a link");
    c.goto(&format!("{base}{link}")).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_url(&url::Url::parse(&page).unwrap()).await.unwrap();
}

/// What every walk starts from: Chromium's driver and its port, an app with the demo
/// platform and the collection partners served at `base`, the partner Ledgerly (id and
/// key), and its client Acme Ltd created with one case (the answer to that request).
/// `None` when no browser is installed (the walk is then skipped, or fails when
/// `REFSHARE_REQUIRE_BROWSER` is set, as `start_driver` decides).
struct Walk {
    driver: Driver,
    port: u16,
    t: TestApp,
    base: String,
    partner_id: String,
    key: String,
    acme: harness::Resp,
}

async fn walk() -> Option<Walk> {
    let (driver, port) = start_driver().await?;
    let mut t = TestApp::sqlite().await.unwrap();
    t.reconfigure(|c| c.platform = collectly()).await;
    t.collection_partners().await;
    let base = serve(&t).await;
    let (partner_id, key) = t.new_partner("Ledgerly").await;
    let acme = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "1000", "GBP", "GB")])),
        )
        .await;
    Some(Walk { driver, port, t, base, partner_id, key, acme })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_signs_onboarding_and_approves_a_link_in_chromium() {
    let Some(Walk { driver, port, t, base, partner_id, key, acme: created }) = walk().await else { return };
    let onboarding = format!("{base}{}", path_of(created.body["onboardingLinks"]["url"].as_str().unwrap()));
    let c = browser(port, &driver.1).await;

    // The platform's own sign-in page, in its neutral frame with the configured footer.
    c.goto(&format!("{base}/login")).await.unwrap();
    assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "Sign in");
    let footer = c.find(Locator::Css("footer")).await.unwrap().text().await.unwrap();
    assert!(footer.contains("Collectly Services GmbH") && footer.contains("help@collectly.example"), "{footer}");
    shot(&c, "login.png").await;

    // Onboarding: the page shows the company and the agreement to anyone; the user signs
    // in from it; submitting without the checkbox is stopped by the browser (required),
    // then signing completes onboarding.
    c.goto(&onboarding).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Acme Ltd") && text.contains("Standard Debt Collection Agreement"), "{text}");
    assert!(text.contains("Ledgerly works with Collectly"), "{text}");
    // The Content-Security-Policy lets the page's stylesheet apply (the default branding).
    let bg = c.execute("return getComputedStyle(document.querySelector('header')).backgroundColor", vec![]).await.unwrap();
    assert_eq!(bg, json!("rgb(11, 61, 145)"), "the page's stylesheet was blocked");
    shot(&c, "onboarding-signin.png").await;
    sign_in_from_page(&c, &t, &base, "ann@acme.test", None).await;
    shot(&c, "onboarding-sign.png").await;
    screenshot(&c, "onboarding-mobile.png", 390, 844).await;
    c.find(Locator::Css("#signer_name")).await.unwrap().send_keys("Ann Acme").await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    assert!(c.current_url().await.unwrap().as_str().ends_with(&path_of(&onboarding).replace(&base, "")));
    assert_eq!(
        t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not signed without acceptance"
    );
    c.find(Locator::Css("input[name=accept]")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // Wait for the new page's heading itself: the old page's h1 may still be there for a
    // moment and go stale under us.
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Onboarding complete']")).await.unwrap();
    shot(&c, "onboarding-complete.png").await;
    assert_eq!(t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await.status, StatusCode::OK);
    let cases = t.partner(&key, "GET", "/cases", None).await;
    assert_eq!(cases.body["cases"][0]["lifecycle"], "Active");

    // Approval: a directly signed-up client's user approves the partner's link request.
    // Ann's session is no user of Nordwind: the page says so and asks to sign in.
    t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let conflict = t.partner(&key, "POST", "/clients", Some(client_body("nw", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    let approval = format!("{base}{}", path_of(conflict.body["data"]["onboardingLinks"]["url"].as_str().unwrap()));
    c.goto(&approval).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Ledgerly asks to link your account"), "{text}");
    assert!(text.contains("which is not a user of Nordwind ApS"), "{text}");
    shot(&c, "approval-signin.png").await;
    sign_in_from_page(&c, &t, &base, "niels@nordwind.test", Some("approval-sent.png")).await;
    shot(&c, "approval-decide.png").await;
    c.find(Locator::Css("button[value=approve]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Link approved']")).await.unwrap();
    shot(&c, "approval-done.png").await;
    assert_eq!(t.partner(&key, "GET", "/clients/nw", None).await.body["isAttributedClient"], false);
    // The used token now shows the 410 page without a form.
    c.goto(&approval).await.unwrap();
    assert!(c.find_all(Locator::Css("form")).await.unwrap().is_empty());

    // The account page: Niels's address is also a user of the partner, so it lists both
    // accounts, the client user (chosen at sign-in) current, the other to continue as.
    let added = t
        .admin(
            "POST",
            &format!("/partners/{partner_id}/users"),
            Some(json!({"email": "niels@nordwind.test", "name": "Niels Nordwind", "role": "member"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    c.goto(&format!("{base}/account")).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("You act as Nordwind ApS — client user"), "{text}");
    let buttons = c.find_all(Locator::Css("form[action='/account/choose'] button")).await.unwrap();
    assert_eq!(buttons.len(), 1, "{text}");
    assert!(buttons[0].text().await.unwrap().starts_with("Continue as Ledgerly — partner member"), "{text}");
    shot(&c, "account.png").await;

    // The Partner Dashboard: Niels continues as the partner's member and opens it; a
    // payment on Acme's case has earned the partner a fee.
    let case_ref = cases.body["cases"][0]["reference"].as_str().unwrap().to_string();
    let paid = t.pay(&case_ref, "1000.00", "browser-p1").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    buttons[0].click().await.unwrap();
    c.wait().for_element(Locator::XPath("//a[normalize-space()='Open the Partner Dashboard']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Overview']")).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Unrecognized") && text.contains("37.50 USD"), "{text}");
    assert_eq!(c.find_all(Locator::Css("svg.chart rect")).await.unwrap().len(), 12, "a bar per month");
    shot(&c, "dashboard-overview.png").await;
    c.find(Locator::XPath("//nav[@aria-label='Dashboard']//a[normalize-space()='Clients']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Clients']")).await.unwrap();
    c.find(Locator::Css("#q")).await.unwrap().send_keys("acm").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_url(&url::Url::parse(&format!("{base}/dashboard/clients?q=acm")).unwrap()).await.unwrap();
    let rows = c.find_all(Locator::Css("main tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1, "acme only");
    assert!(rows[0].text().await.unwrap().contains("Acme Ltd"));
    shot(&c, "dashboard-clients.png").await;
    c.find(Locator::XPath("//nav[@aria-label='Dashboard']//a[normalize-space()='Cases']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Cases']")).await.unwrap();
    assert!(c.find(Locator::Css("main tbody")).await.unwrap().text().await.unwrap().contains(&case_ref));
    shot(&c, "dashboard-cases.png").await;
    c.find(Locator::XPath("//nav[@aria-label='Dashboard']//a[normalize-space()='Earnings']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Earnings']")).await.unwrap();
    let text = c.find(Locator::Css("main tbody")).await.unwrap().text().await.unwrap();
    assert!(text.contains(&case_ref) && text.contains("30.00 GBP") && text.contains("Unrecognized"), "{text}");
    shot(&c, "dashboard-earnings.png").await;
    screenshot(&c, "dashboard-earnings-mobile.png", 390, 844).await;

    // An address that names no request: the platform's error page.
    c.goto(&format!("{base}/link-requests/nope")).await.unwrap();
    assert_eq!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap(), "This link is not valid");
    shot(&c, "error-page.png").await;
    c.close().await.unwrap();
}

/// The Partner Dashboard's journeys of issue 10, as a partner admin would make them: sign
/// in, search the Clients tab, check a case the Cases tab does not list (by reference)
/// and raise a dispute from its check page, then see the dispute's page; search the
/// Earnings tab and fetch its CSV link in the browser's session; open the month's
/// statement; invite a teammate and open the webhooks, API keys and settings pages.
/// Screenshots: `dashboard-check.png`, `dashboard-dispute.png`, `dashboard-statement.png`,
/// `dashboard-team.png`, `dashboard-webhooks.png`, `dashboard-api-keys.png`,
/// `dashboard-settings.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_checks_a_case_and_raises_a_dispute_in_chromium() {
    let Some(Walk { driver, port, t, base, partner_id, key, acme: created }) = walk().await else { return };
    // An attributed client with a paid case (it earns) ...
    let signed = t
        .submit_form(&path_of(created.body["onboardingLinks"]["url"].as_str().unwrap()), &[("signer_name", "Ann"), ("accept", "yes")])
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let earning_ref = created.body["caseResults"]["successfulCases"][0]["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&earning_ref, "1000.00", "b-p1").await.status, StatusCode::CREATED);
    // ... and a client that signed up directly, linked by approval, whose own case is paid:
    // not in the partner's Cases tab, and it earns nothing.
    let (_, client_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let conflict = t.partner(&key, "POST", "/clients", Some(client_body("nw-1", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    let approved =
        t.submit_form(&path_of(conflict.body["data"]["onboardingLinks"]["url"].as_str().unwrap()), &[("decision", "approve")]).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    let hidden_ref = own.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&hidden_ref, "1000.00", "b-p2").await.body["attribution"]["reason"], "non_attributed_other_channel");
    let added = t
        .admin(
            "POST",
            &format!("/partners/{partner_id}/users"),
            Some(json!({"email": "ada@ledgerly.test", "name": "Ada Admin", "role": "admin"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    let c = browser(port, &driver.1).await;
    let tab = |name: &str| format!("//nav[@aria-label='Dashboard']//a[normalize-space()='{name}']");
    let heading = |text: &str| format!("//h1[normalize-space()='{text}']");

    // Sign in at /login through the mailed link; the one account is chosen.
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#email")).await.unwrap().send_keys("ada@ledgerly.test").await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Check your e-mail"))).await.unwrap();
    let (link, _) = t.latest_signin_mail("ada@ledgerly.test").await;
    c.goto(&format!("{base}{link}")).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//a[normalize-space()='Open the Partner Dashboard']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Overview"))).await.unwrap();

    // Clients: the search finds the approved client.
    c.find(Locator::XPath(&tab("Clients"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Clients"))).await.unwrap();
    c.find(Locator::Css("#q")).await.unwrap().send_keys("nord").await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_url(&url::Url::parse(&format!("{base}/dashboard/clients?q=nord")).unwrap()).await.unwrap();
    let rows = c.find_all(Locator::Css("main tbody tr")).await.unwrap();
    assert!(rows.len() == 1 && rows[0].text().await.unwrap().contains("Nordwind ApS"));

    // Cases: the client's own case is not listed; checked by reference, the page says why.
    c.find(Locator::XPath(&tab("Cases"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Cases"))).await.unwrap();
    let listed = c.find(Locator::Css("main tbody")).await.unwrap().text().await.unwrap();
    assert!(listed.contains(&earning_ref) && !listed.contains(&hidden_ref), "{listed}");
    c.find(Locator::Css("#reference")).await.unwrap().send_keys(&hidden_ref).await.unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Check']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading(&format!("Case {hidden_ref}")))).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Why this case is not in your Cases tab") && text.contains("non-attributed"), "{text}");
    assert!(text.contains("non_attributed_other_channel") && text.contains("Disputes on this case are accepted until"), "{text}");
    shot(&c, "dashboard-check.png").await;

    // Raise a dispute: the form comes prefilled; the partner adds what it observed.
    assert_eq!(c.find(Locator::Css("#externalTenantId")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("nw-1"));
    c.find(Locator::Css("#observation")).await.unwrap().send_keys("\nThe client says its staff used our app.").await.unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Raise the dispute']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading(&format!("Dispute on case {hidden_ref}")))).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("Open: waiting for the platform") && text.contains("The client says its staff used our app."), "{text}");
    shot(&c, "dashboard-dispute.png").await;
    let filed = t.partner(&key, "GET", "/disputes", None).await;
    assert_eq!(filed.body["disputes"][0]["caseReference"], hidden_ref.as_str(), "{}", filed.text);
    c.find(Locator::XPath(&tab("Disputes"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Disputes"))).await.unwrap();
    assert!(c.find(Locator::Css("main tbody")).await.unwrap().text().await.unwrap().contains(&hidden_ref));

    // Earnings: search by case reference, then the CSV link in this session.
    c.find(Locator::XPath(&tab("Earnings"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Earnings"))).await.unwrap();
    c.find(Locator::Css("#q")).await.unwrap().send_keys(&earning_ref).await.unwrap();
    c.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    // The form sends its empty filters too: wait for the searched page by its query.
    for _ in 0..100 {
        if c.current_url().await.unwrap().query().is_some_and(|q| q.contains(&format!("q={earning_ref}"))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rows = c.find_all(Locator::Css("main tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1);
    let href =
        c.find(Locator::XPath("//a[contains(normalize-space(), 'CSV')]")).await.unwrap().attr("href").await.unwrap().expect("a CSV link");
    assert_eq!(href, format!("/dashboard/earnings.csv?q={earning_ref}"));
    let session = c.get_named_cookie("refshare_session").await.unwrap();
    let mut jar = harness::Jar::default();
    jar.0.insert("refshare_session".into(), session.value().to_string());
    let csv = t.browse(&mut jar, &href, None, &[]).await;
    assert_eq!((csv.status, csv.headers["content-type"].to_str().unwrap()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[1].starts_with(&format!("{earning_ref},Acme Ltd,acme,")) && lines[1].contains(",30.00,GBP,"), "{}", lines[1]);

    // Statements: this month's, with the payout that did not earn and its reason.
    c.find(Locator::XPath(&tab("Statements"))).await.unwrap().click().await.unwrap();
    let month = t.app.now().format("%Y-%m").to_string();
    c.wait().for_element(Locator::XPath(&heading(&format!("Statement {month}")))).await.unwrap();
    shot(&c, "dashboard-statement.png").await;
    c.find(Locator::LinkText("their own page")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h2[normalize-space()='Payouts that did not earn (1)']")).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains(&hidden_ref), "{text}");

    // The admin's pages, by their tabs: team (invite a teammate with the keyboard-usable
    // form), webhooks, API keys, settings.
    c.find(Locator::XPath(&tab("Team"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath(&heading("Team"))).await.unwrap();
    c.find(Locator::Id("name")).await.unwrap().send_keys("Mo Member").await.unwrap();
    c.find(Locator::Id("email")).await.unwrap().send_keys("mo@ledgerly.test").await.unwrap();
    c.find(Locator::XPath("//button[normalize-space()='Send the invitation']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//p[contains(., 'Invitation sent to mo@ledgerly.test')]")).await.unwrap();
    shot(&c, "dashboard-team.png").await;
    for (name, title, file) in [
        ("Webhooks", "Webhooks", "dashboard-webhooks.png"),
        ("API keys", "API keys", "dashboard-api-keys.png"),
        ("Settings", "Settings", "dashboard-settings.png"),
    ] {
        c.find(Locator::XPath(&tab(name))).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::XPath(&heading(title))).await.unwrap();
        shot(&c, file).await;
    }
    c.close().await.unwrap();
}

/// The overview's Attention list and a client's timeline (issue 10), in Chromium: a
/// partner user signs in at `/login`, reads what needs attention (a pending onboarding, a
/// link request, a case that will not earn), follows the client's link to its timeline.
/// With `REFSHARE_SCREENSHOTS` set: `dashboard-attention.png`, `dashboard-timeline.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partner_reads_attention_and_a_timeline_in_chromium() {
    let Some(Walk { driver, port, t, base, partner_id, key, acme }) = walk().await else { return };
    // Onboarding pending at Acme; a link request to Solvik; Nordwind linked by approval,
    // with a case of its own (it will not earn) and one of ours, both paid.
    assert_eq!(acme.status, StatusCode::ACCEPTED, "{}", acme.text);
    t.direct_client("Solvik AS", "siri@solvik.test").await;
    let sol = t.partner(&key, "POST", "/clients", Some(client_body("sol", "Solvik AS", "siri@solvik.test", vec![]))).await;
    assert_eq!(sol.status, StatusCode::CONFLICT, "{}", sol.text);
    let (_, nw_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let nw = t.partner(&key, "POST", "/clients", Some(client_body("nw", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    let approved = t.submit_form(&path_of(nw.body["data"]["onboardingLinks"]["url"].as_str().unwrap()), &[("decision", "approve")]).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    let own = t.customer_key(&nw_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    let own_ref = own.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&own_ref, "1000.00", "own-p1").await.status, StatusCode::CREATED);
    let token = t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "nw"}))).await.body["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let ours = t.customer_bearer(&token, "POST", "/cases", Some(case_body("OURS-1", "1000", "GBP", "GB"))).await;
    let ours_ref = ours.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&ours_ref, "1000.00", "ours-p1").await.status, StatusCode::CREATED);
    let added = t
        .admin(
            "POST",
            &format!("/partners/{partner_id}/users"),
            Some(json!({"email": "pat@ledgerly.test", "name": "Pat Partner", "role": "member"})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);

    let c = browser(port, &driver.1).await;
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("#email")).await.unwrap().send_keys("pat@ledgerly.test").await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Check your e-mail']")).await.unwrap();
    let mails = t.admin("GET", "/notifications?to=pat@ledgerly.test&kind=sign_in", None).await;
    let body = mails.body["notifications"][0]["body"].as_str().expect("a sign-in mail").to_string();
    let link = body.split("http://refshare.test").nth(1).and_then(|s| s.split_whitespace().next()).expect("a link").to_string();
    c.goto(&format!("{base}{link}")).await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_url(&url::Url::parse(&format!("{base}/account")).unwrap()).await.unwrap();

    c.goto(&format!("{base}/dashboard")).await.unwrap();
    c.wait().for_element(Locator::XPath("//h2[normalize-space()='Needs your attention']")).await.unwrap();
    let rows = c.find_all(Locator::Css("main tr[data-kind]")).await.unwrap();
    let mut kinds = Vec::new();
    for r in &rows {
        kinds.push(r.attr("data-kind").await.unwrap().unwrap_or_default());
    }
    assert_eq!(kinds, ["link_request_pending", "onboarding_pending", "case_outside_integration"], "deadlines first");
    shot(&c, "dashboard-attention.png").await;

    c.find(Locator::Css("main tr[data-kind=case_outside_integration] a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[normalize-space()='Nordwind ApS']")).await.unwrap();
    let text = c.find(Locator::Css("main tbody")).await.unwrap().text().await.unwrap();
    assert!(text.contains(&own_ref) && text.contains(&ours_ref) && text.contains("Link request approved"), "{text}");
    shot(&c, "dashboard-timeline.png").await;
    c.close().await.unwrap();
}
