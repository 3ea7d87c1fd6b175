//! `serve --demo`: a fresh SQLite database seeded with a believable platform: two
//! partners, collection partners in several countries, clients in every situation of
//! SPEC §5, and payments on them. Everything goes through the same use cases as the API;
//! consent too: the client's user signs in with the link of a sign-in mail read from the
//! notification log, as an integrator does in `test`. Each partner gets users (an admin,
//! and a member for the first) whose one-time sign-in links to the Partner Dashboard are
//! printed at start.

use refshare_app::cases::{parse_case, Origin};
use refshare_app::links::{Decision, Signing};
use refshare_app::people::PartnerUserInput;
use refshare_app::signin::Session;
use refshare_app::{App, AppError, ClientError, InternalError};
use refshare_core::case::CaseSource;
use refshare_core::link::LinkStatus;
use refshare_store::PartnerRecord;
use serde_json::json;
use uuid::Uuid;

use crate::config::Settings;

/// The demo's platform identity where none is configured, so the pages show a full footer
/// (addresses under the reserved `.example` domain).
pub fn platform_defaults(p: &mut refshare_app::platform::PlatformInput) {
    let unset = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if unset(&p.legal_entity) {
        p.legal_entity = Some("refshare Demo Ltd (example)".into());
    }
    if unset(&p.support_email) {
        p.support_email = Some("support@refshare.example".into());
    }
    if unset(&p.terms_url) {
        p.terms_url = Some("https://refshare.example/terms".into());
    }
    if unset(&p.privacy_url) {
        p.privacy_url = Some("https://refshare.example/privacy".into());
    }
}

/// Deletes the demo SQLite file so every demo starts fresh (keys are shown once).
pub fn reset_database(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url.strip_prefix("sqlite://") else {
        anyhow::bail!("--demo needs a SQLite database URL, got {url}");
    };
    let path = rest.split('?').next().unwrap_or(rest);
    if !path.ends_with("demo.db") {
        anyhow::bail!("--demo starts from a fresh database and deletes it first; refusing to delete `{path}` (use a file named *demo.db)");
    }
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{path}{suffix}");
        if std::path::Path::new(&p).exists() {
            std::fs::remove_file(&p)?;
        }
    }
    Ok(())
}

pub struct Seeded {
    pub partners: Vec<(PartnerRecord, String)>,
    /// Partner users with a printed sign-in link: (partner, name, role, e-mail, link).
    pub users: Vec<DemoUser>,
    pub lines: Vec<String>,
}

/// A demo partner user and the sign-in link printed for them.
pub struct DemoUser {
    pub partner: String,
    pub name: String,
    pub role: String,
    pub email: String,
    pub link: String,
}

/// The partner users the demo creates: (partner index, name, e-mail, role).
const DEMO_USERS: &[(usize, &str, &str, &str)] = &[
    (0, "Lena Larsen", "lena@ledgerly.example", "admin"),
    (0, "Milo Moreno", "milo@ledgerly.example", "member"),
    (1, "Iris Ito", "iris@invoicehub.example", "admin"),
];

fn case(reference: &str, amount: &str, currency: &str, debtor: &str, country: &str) -> serde_json::Value {
    json!({
        "currencyCode": currency, "amountToRecover": serde_json::from_str::<serde_json::Value>(amount).expect("number"),
        "creditorReference": reference, "debtor": {"type": "Company", "name": debtor, "countryAlpha2": country},
    })
}

fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_string()
}

async fn pay(app: &App, reference: &str, amount: &str, external: &str) -> Result<String, AppError> {
    Ok(pay_outcome(app, reference, amount, external).await?.0)
}

async fn pay_outcome(
    app: &App,
    reference: &str,
    amount: &str,
    external: &str,
) -> Result<(String, refshare_app::payments::PaymentOutcome), AppError> {
    let input = serde_json::from_value(
        json!({"amount": serde_json::from_str::<serde_json::Value>(amount).expect("number"), "externalId": external}),
    )
    .map_err(|e| AppError::Internal(InternalError::caused_by("demo input", e)))?;
    let out = app.register_payment(reference, input).await?;
    let line = format!(
        "{reference}: payment {amount} → {} ({})",
        out.decision.reason.as_str(),
        refshare_core::money::format_minor(out.decision.referral_fee_minor, out.decision.currency.exponent())
    );
    Ok((line, out))
}

async fn new_case(app: &App, client: Uuid, body: serde_json::Value, source: CaseSource, partner: Option<Uuid>) -> Result<String, AppError> {
    let nc = parse_case(&body, "").map_err(AppError::Validation)?;
    Ok(app.create_case_for(client, &nc, Origin { source, partner }).await?.reference)
}

/// Signs `email` in the way a client user does in `test`: a sign-in mail, its link read
/// from the notification log, the confirm step.
async fn client_session(app: &App, email: &str) -> Result<Session, AppError> {
    app.request_signin(email, "127.0.0.1").await?;
    let mail = app.store.begin().await?.notifications(Some(email), Some(refshare_app::signin::MAIL_KIND), 1).await?;
    let secret = mail
        .first()
        .and_then(|m| m.body.split("/login/").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| AppError::internal(format!("no readable sign-in mail to {email}")))?
        .to_string();
    Ok(app.signin_with_link(&secret).await?.session)
}

fn signing(name: &str) -> Signing {
    Signing { signer_name: name.into(), accepted: true, ip: "127.0.0.1".into(), user_agent: "refshare demo".into() }
}

async fn link_request(
    app: &App,
    partner: &PartnerRecord,
    tenant: &str,
    company: &str,
    email: &str,
    country: &str,
) -> Result<String, AppError> {
    let input = serde_json::from_value(json!({
        "externalTenantId": tenant,
        "client": {"name": company, "country": country, "supportEmail": email},
        "users": [{"name": "Owner", "email": email, "isOnboardingUser": true}],
    }))
    .map_err(|e| AppError::Internal(InternalError::caused_by("demo input", e)))?;
    match app.create_client(partner, input).await {
        Err(AppError::Client(ClientError::ExistsNeedsLinking { approval_url, .. })) => Ok(approval_url),
        Err(e) => Err(e),
        Ok(_) => Err(AppError::internal("expected a 409 link request")),
    }
}

pub async fn seed(app: &App) -> Result<Seeded, AppError> {
    let mut lines = Vec::new();
    let partner = |name: &str, email: &str, colour: &str| {
        serde_json::from_value(json!({"companyName": name, "contactEmail": email, "referralFeePercentage": 50, "branding": {"backgroundColorCode": colour, "fontColor": "#ffffff"}})).expect("valid")
    };
    let (ledgerly, ledgerly_key) = app.create_partner(partner("Ledgerly", "partners@ledgerly.example", "#14532d")).await?;
    let (invoicehub, invoicehub_key) = app.create_partner(partner("InvoiceHub", "integrations@invoicehub.example", "#1e3a8a")).await?;
    for cp in [
        json!({"name": "Britannia Collect", "countries": ["GB", "IE"], "successFeePercentage": 15, "platformSharePercentage": 40}),
        json!({"name": "Nordic Recovery", "countries": ["DK", "SE", "NO", "FI"], "successFeePercentage": 12.5, "platformSharePercentage": 40}),
        json!({"name": "Iberia Cobros", "countries": ["ES", "PT"], "successFeePercentage": 20, "platformSharePercentage": 20}),
    ] {
        app.create_collection_partner(serde_json::from_value(cp).expect("valid")).await?;
    }
    app.load_fx_rates(
        serde_json::from_value(json!({"date": app.now().format("%Y-%m-%d").to_string(), "rates": [
            {"currency": "GBP", "usdPerUnit": 1.27}, {"currency": "EUR", "usdPerUnit": 1.08}, {"currency": "DKK", "usdPerUnit": 0.145},
            {"currency": "SEK", "usdPerUnit": 0.095}, {"currency": "NOK", "usdPerUnit": 0.093},
        ]}))
        .expect("valid"),
    )
    .await?;

    // Attributed client: every source earns.
    let created = app.create_client(&ledgerly, serde_json::from_value(json!({
        "externalTenantId": "ledgerly-acme",
        "client": {"name": "Acme Bakery Ltd", "country": "GB", "supportEmail": "accounts@acmebakery.example", "registrationNumber": "GB-0412", "city": "Leeds"},
        "users": [{"name": "Alice Baker", "email": "alice@acmebakery.example", "isOnboardingUser": true}],
        "cases": [case("ACME-1", "1000.00", "GBP", "Crumb & Co", "GB")],
    })).expect("valid")).await?;
    let acme = created.state.client.client_id;
    let alice = client_session(app, "alice@acmebakery.example").await?;
    app.sign_onboarding(created.state.client.link_id, signing("Alice Baker"), &alice).await?;
    let acme_web = new_case(app, acme, case("ACME-2", "640.00", "GBP", "Dough Direct", "GB"), CaseSource::WebApp, None).await?;
    let acme_first = created.cases.successful[0].reference.clone();
    let (line, first) = pay_outcome(app, &acme_first, "1000.00", "demo-acme-1").await?;
    lines.push(line);
    // The collection partner paid the commission: the earning is Confirmed, its USD locked.
    app.commission_paid(first.payout.id).await?;
    lines.push(format!("{acme_first}: commission paid → Confirmed (USD rate locked)"));
    let (line, web) = pay_outcome(app, &acme_web, "320.00", "demo-acme-2").await?;
    lines.push(line);
    let (line, _) = pay_outcome(app, &acme_web, "180.00", "demo-acme-3").await?;
    lines.push(line);
    app.reverse_payment(web.payment.id, Some("chargeback by the debtor's bank (demo)".into())).await?;
    lines.push(format!("{acme_web}: payment 320.00 reversed → earning voided, visible in the statement"));

    // Non-attributed client (signed up directly, then linked by approval).
    let (nordwind, _) = app
        .create_direct_client(
            serde_json::from_value(json!({
                "companyName": "Nordwind Logistik ApS", "country": "DK", "supportEmail": "finance@nordwind.example",
                "users": [{"name": "Niels Holm", "email": "niels@nordwind.example"}], "onboardingDone": true,
            }))
            .expect("valid"),
        )
        .await?;
    let url = link_request(app, &ledgerly, "ledgerly-nordwind", "Nordwind Logistik ApS", "niels@nordwind.example", "DK").await?;
    let niels = client_session(app, "niels@nordwind.example").await?;
    app.decide_link_request(&token_of(&url), Decision::Approve, &niels).await?;
    let nw_partner =
        new_case(app, nordwind.id, case("NW-1", "20000.00", "DKK", "Fjord Freight", "DK"), CaseSource::PartnerApi, Some(ledgerly.id))
            .await?;
    let nw_web = new_case(app, nordwind.id, case("NW-2", "8000.00", "DKK", "Havn Handel", "DK"), CaseSource::WebApp, None).await?;
    lines.push(pay(app, &nw_partner, "5000.00", "demo-nw-1").await?);
    lines.push(pay(app, &nw_web, "2000.00", "demo-nw-2").await?);
    app.file_dispute(
        &ledgerly,
        refshare_app::disputes::DisputeInput {
            case_reference: Some(nw_web.clone()),
            external_tenant_id: Some("ledgerly-nordwind".into()),
            creation_method: Some("We believe our integration created it".into()),
            expected_outcome: Some("A referral fee on the payout".into()),
            observation: Some("The check says another channel created the case".into()),
        },
    )
    .await?;
    lines.push(format!("{nw_web}: dispute filed by Ledgerly (open; resolve with POST /admin-api/v1/disputes/{{id}}/resolve)"));

    // Link pending approval.
    let (solvik, _) = app
        .create_direct_client(
            serde_json::from_value(json!({
                "companyName": "Solvik AS", "country": "NO", "supportEmail": "post@solvik.example",
                "users": [{"name": "Siri Solvik", "email": "siri@solvik.example"}], "onboardingDone": true,
            }))
            .expect("valid"),
        )
        .await?;
    let pending_url = link_request(app, &invoicehub, "hub-solvik", "Solvik AS", "siri@solvik.example", "NO").await?;
    let solvik_case =
        new_case(app, solvik.id, case("SOL-1", "15000.00", "NOK", "Bergen Bygg", "NO"), CaseSource::CustomerApi, None).await?;
    lines.push(pay(app, &solvik_case, "3000.00", "demo-sol-1").await?);

    // Onboarding incomplete: cases wait in PendingContractSigning.
    let porto = app
        .create_client(
            &invoicehub,
            serde_json::from_value(json!({
                "externalTenantId": "hub-porto",
                "client": {"name": "Porto Textiles Lda", "country": "PT", "supportEmail": "geral@portotextiles.example"},
                "users": [{"name": "Paula Costa", "email": "paula@portotextiles.example"}],
                "cases": [case("PT-1", "4200.00", "EUR", "Lisboa Moda", "PT")],
            }))
            .expect("valid"),
        )
        .await?;

    // Archived link: earns, then the link is archived and the next payment does not.
    let dublin = app
        .create_client(
            &invoicehub,
            serde_json::from_value(json!({
                "externalTenantId": "hub-dublin",
                "client": {"name": "Dublin Devices Ltd", "country": "IE", "supportEmail": "ap@dublindevices.example"},
                "users": [{"name": "Dara Byrne", "email": "dara@dublindevices.example"}],
                "cases": [case("DUB-1", "9000.00", "EUR", "Cork Components", "IE")],
            }))
            .expect("valid"),
        )
        .await?;
    let dara = client_session(app, "dara@dublindevices.example").await?;
    app.sign_onboarding(dublin.state.client.link_id, signing("Dara Byrne"), &dara).await?;
    let dub = dublin.cases.successful[0].reference.clone();
    lines.push(pay(app, &dub, "1500.00", "demo-dub-1").await?);
    app.change_link(dublin.state.client.link_id, LinkStatus::Archived, Some("contract ended (demo)".into())).await?;
    lines.push(pay(app, &dub, "1500.00", "demo-dub-2").await?);

    // Case created before the link.
    let (amber, _) = app
        .create_direct_client(
            serde_json::from_value(json!({
                "companyName": "Baltic Amber AB", "country": "SE", "supportEmail": "ekonomi@balticamber.example",
                "users": [{"name": "Björn Lind", "email": "bjorn@balticamber.example"}], "onboardingDone": true,
            }))
            .expect("valid"),
        )
        .await?;
    let old_case = new_case(app, amber.id, case("BA-1", "30000.00", "SEK", "Malmö Mineral", "SE"), CaseSource::CustomerApi, None).await?;
    let url = link_request(app, &ledgerly, "ledgerly-amber", "Baltic Amber AB", "bjorn@balticamber.example", "SE").await?;
    let bjorn = client_session(app, "bjorn@balticamber.example").await?;
    app.decide_link_request(&token_of(&url), Decision::Approve, &bjorn).await?;
    lines.push(pay(app, &old_case, "10000.00", "demo-ba-1").await?);

    lines.push(format!("Pending link approval URL (Solvik AS → InvoiceHub): {pending_url}"));
    lines.push(format!("Onboarding URL (Porto Textiles, not signed): {}", porto.state.onboarding_url.unwrap_or_default()));
    lines.push(format!(
        "Agreement {} ({}): {}/agreements/{}",
        app.agreement().version(),
        if app.agreement().is_sample() { "the shipped sample" } else { "REFSHARE_AGREEMENT_FILE" },
        app.config.public_url,
        app.agreement().version()
    ));
    let partners = [&ledgerly, &invoicehub];
    let mut users = Vec::new();
    for &(at, name, email, role) in DEMO_USERS {
        let p = partners[at];
        let input = PartnerUserInput { email: Some(email.into()), name: Some(name.into()), role: Some(role.into()) };
        app.add_partner_user(p.id, input).await?;
        let link = app.demo_signin_link(email, "/dashboard").await?;
        users.push(DemoUser { partner: p.company_name.clone(), name: name.into(), role: role.into(), email: email.into(), link });
    }
    Ok(Seeded { partners: vec![(ledgerly, ledgerly_key.key), (invoicehub, invoicehub_key.key)], users, lines })
}

pub fn print(s: &Settings, seeded: &Seeded, out: &mut dyn std::io::Write) {
    let base = &s.public_url;
    let _ = writeln!(out, "\nrefshare demo — environment: test, database: {}\n", s.database_url);
    let _ = writeln!(out, "  Referral API : {base}/referral-api     (header XApiKey)");
    let _ = writeln!(out, "  Customer API : {base}/customer-api     (XApiKey or Bearer token)");
    let _ = writeln!(out, "  Operator API : {base}/admin-api/v1     (Authorization: Bearer <operator token>)");
    let _ = writeln!(out, "  OpenAPI      : {base}/openapi.json\n");
    let _ = writeln!(out, "  Operator token: {}", s.admin_token);
    for (p, key) in &seeded.partners {
        let _ = writeln!(out, "  Partner {:<11} API key: {key}", p.company_name);
    }
    let _ = writeln!(
        out,
        "\nPartner Dashboard ({base}/dashboard): each link signs one user in, once, within {} hours;\n\
         afterwards sign in at {base}/login and open the mail at {base}/dev/mail.",
        refshare_app::signin::DEMO_LINK_TTL_HOURS
    );
    for u in &seeded.users {
        let _ = writeln!(out, "  {} ({}, {}) <{}>: {}", u.name, u.partner, u.role, u.email, u.link);
    }
    let _ = writeln!(out, "\nSeeded payments and their attribution:");
    for l in &seeded.lines {
        let _ = writeln!(out, "  {l}");
    }
    let _ = writeln!(out, "\nTry: curl -s -H 'XApiKey: {}' {base}/referral-api/clients\n", seeded.partners[0].1);
}
