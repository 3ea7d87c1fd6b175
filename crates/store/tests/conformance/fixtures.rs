//! Builders for the records the tests store, at fixed millisecond instants (no clock).

use std::fmt::Debug;

use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::link::{Link, LinkEvent, LinkStatus};
use refshare_core::money::{Bps, Currency};
use refshare_core::stage::InvoicingTriggerMode;
use refshare_core::Instant;
use refshare_store::{
    CaseRecord, ClientRecord, ClientUserRecord, CollectionPartnerRecord, PartnerRecord, StoreError, Tx, UtcMonth, WebhookSubscriptionRecord,
};
use serde_json::json;
use uuid::Uuid;

pub const SECOND: i64 = 1_000;
pub const HOUR: i64 = 3_600 * SECOND;
pub const DAY: i64 = 24 * HOUR;

/// The actor recorded on links the tests create.
pub const ACTOR: &str = "system:conformance";

/// `offset_ms` after 2024-03-01T09:30:00.123Z; the odd milliseconds catch truncation.
pub fn t(offset_ms: i64) -> Instant {
    chrono::DateTime::from_timestamp_millis(1_709_285_400_123 + offset_ms).expect("instant in range")
}

pub fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("known currency")
}

#[track_caller]
pub fn assert_conflict<T: Debug>(result: Result<T, StoreError>) {
    match result {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected StoreError::Conflict, got {other:?}"),
    }
}

pub fn partner(name: &str, created_at: Instant) -> PartnerRecord {
    PartnerRecord {
        id: Uuid::new_v4(),
        company_name: name.to_string(),
        contact_email: format!("team@{}.example", name.to_lowercase().replace(' ', "-")),
        referral_fee_bps: Bps(5_000),
        approval_ttl_days: 7,
        invoicing_trigger_mode: InvoicingTriggerMode::PayWhenPaid,
        branding: json!({
            "logoUrl": "https://cdn.example/logo.png",
            "backgroundColorCode": "#102030",
            "fontColor": "#ffffff",
            "fontFamily": "Inter",
        }),
        created_at,
    }
}

pub fn client(name: &str, created_at: Instant) -> ClientRecord {
    ClientRecord {
        id: Uuid::new_v4(),
        company_name: name.to_string(),
        country: "DK".to_string(),
        registration_number: None,
        support_email: None,
        details: json!({"address": {"street": "Strandvejen 1", "city": "København"}, "phone": "+45 1234 5678"}),
        api_key_hash: None,
        onboarding_completed_at: None,
        sdca: None,
        created_at,
    }
}

pub fn user(client: &ClientRecord, email: &str, is_onboarding_user: bool) -> ClientUserRecord {
    ClientUserRecord {
        id: Uuid::new_v4(),
        client_id: client.id,
        name: format!("User {email}"),
        email: email.to_string(),
        phone: Some("+45 8765 4321".to_string()),
        is_onboarding_user,
        status: refshare_core::people::PersonStatus::Invited,
        last_sign_in_at: None,
    }
}

/// A link as `insert_link` stores it: active since `linked_at`, fee snapshot from the partner.
pub fn link(p: &PartnerRecord, c: &ClientRecord, tenant: &str, is_attributed: bool, linked_at: Instant) -> Link {
    Link {
        id: Uuid::new_v4(),
        partner_id: p.id,
        client_id: c.id,
        external_tenant_id: tenant.to_string(),
        is_attributed,
        referral_fee_bps: p.referral_fee_bps,
        linked_at,
        history: vec![event(linked_at, LinkStatus::Active, None)],
    }
}

pub fn event(at: Instant, status: LinkStatus, reason: Option<&str>) -> LinkEvent {
    LinkEvent { at, status, actor: ACTOR.to_string(), reason: reason.map(str::to_string) }
}

/// Stores a status change and mirrors it on the in-memory link.
pub async fn change_status(tx: &mut Tx, link: &mut Link, status: LinkStatus, at: Instant) -> Result<(), StoreError> {
    let e = event(at, status, None);
    tx.change_link_status(link, &e).await?;
    link.history.push(e);
    Ok(())
}

/// A case `DEB-<number>` (creditor reference `INV-<number>`) created by a non-partner channel.
pub fn case(c: &ClientRecord, number: i64, source: CaseSource, created_at: Instant) -> CaseRecord {
    CaseRecord {
        id: Uuid::new_v4(),
        reference: format!("DEB-{number}"),
        client_id: c.id,
        creditor_reference: format!("INV-{number}"),
        source,
        creating_partner_id: None,
        created_at,
        updated_at: created_at,
        lifecycle: Lifecycle::PendingContractSigning,
        close_code: None,
        amount_minor: 100_000 + number,
        currency: currency("EUR"),
        debtor_type: "Company".to_string(),
        debtor_name: format!("Debtor {number}"),
        debtor_country: "DK".to_string(),
        details: json!({"dueDate": "2024-01-31", "comment": "first reminder sent"}),
        assignment: None,
        paid_minor: 0,
    }
}

/// Stores a partner, its client (without users) and the link between them.
pub async fn insert_linked(tx: &mut Tx, p: &PartnerRecord, c: &ClientRecord, l: &Link) -> Result<(), StoreError> {
    tx.insert_partner(p).await?;
    tx.insert_client(c, &[]).await?;
    tx.insert_link(l, ACTOR, None).await
}

/// A collection partner in Denmark (15 % success fee, 40 % of it the platform's).
pub fn collection_partner(name: &str, created_at: Instant) -> CollectionPartnerRecord {
    CollectionPartnerRecord {
        id: Uuid::new_v4(),
        name: name.into(),
        success_fee_bps: Bps(1_500),
        platform_share_bps: Bps(4_000),
        countries: vec!["DK".into()],
        created_at,
    }
}

/// A case created through `p`'s partner channel (`partner_api`).
pub fn partner_case(c: &ClientRecord, number: i64, p: &PartnerRecord, created_at: Instant) -> CaseRecord {
    CaseRecord { creating_partner_id: Some(p.id), ..case(c, number, CaseSource::PartnerApi, created_at) }
}

/// Two partners, each linked (attributed) to a client of its own: P's client with a case in
/// each of EUR, JPY, SEK, USD and KWD (exponents 2, 0, 2, 2, 3; numbers from `first_case`),
/// Q's with one EUR case (`first_case + 100`). The setup of the kept-totals tests.
pub struct TwoPartners {
    pub p: PartnerRecord,
    pub q: PartnerRecord,
    pub qc: ClientRecord,
    pub pl: Link,
    pub ql: Link,
    pub p_cases: Vec<CaseRecord>,
    pub q_case: CaseRecord,
}

pub async fn two_partners_with_cases(tx: &mut Tx, first_case: i64) -> Result<TwoPartners, StoreError> {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (pc, qc) = (client("Månedlig Fiskeri", t(0)), client("Monthly Trawl", t(0)));
    let (pl, ql) = (link(&p, &pc, "tenant-p", true, t(0)), link(&q, &qc, "tenant-q", true, t(0)));
    for x in [&p, &q] {
        tx.insert_partner(x).await?;
    }
    tx.insert_client(&pc, &[]).await?;
    tx.insert_client(&qc, &[]).await?;
    tx.insert_link(&pl, ACTOR, None).await?;
    tx.insert_link(&ql, ACTOR, None).await?;
    let mut p_cases = Vec::new();
    for (i, code) in ["EUR", "JPY", "SEK", "USD", "KWD"].iter().enumerate() {
        let c = CaseRecord { currency: currency(code), ..partner_case(&pc, first_case + i as i64, &p, t(0)) };
        tx.insert_case(&c).await?;
        p_cases.push(c);
    }
    let q_case = CaseRecord { currency: currency("EUR"), ..partner_case(&qc, first_case + 100, &q, t(0)) };
    tx.insert_case(&q_case).await?;
    Ok(TwoPartners { p, q, qc, pl, ql, p_cases, q_case })
}

/// A small deterministic generator (no dependency, same data on both backends).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    pub fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
}

/// Instants in UTC milliseconds for the kept-totals tests: `n` drawn from `g` over
/// `months[0]` to `months[13]`, then the first and last millisecond of every third month of
/// `months`.
pub fn month_dates(g: &mut Lcg, n: usize, months: &[UtcMonth]) -> Vec<i64> {
    let start = months[0].start().timestamp_millis();
    let span = months[13].end().timestamp_millis() - start;
    let mut dates: Vec<i64> = (0..n).map(|_| start + g.below(span)).collect();
    for m in months.iter().step_by(3) {
        dates.push(m.start().timestamp_millis());
        dates.push(m.end().timestamp_millis() - 1);
    }
    dates
}

/// An active webhook subscription of the partner, created `created_ms` after [`t`]`(0)`.
pub fn subscription(partner_id: Uuid, created_ms: i64) -> WebhookSubscriptionRecord {
    WebhookSubscriptionRecord {
        id: Uuid::new_v4(),
        partner_id,
        url: "https://hooks.partner.example/refshare?x=ü".into(),
        events: vec!["case.created".into(), "client.linked".into()],
        is_active: true,
        is_test_mode: false,
        secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=".into(),
        previous_secret: None,
        previous_secret_until: None,
        consecutive_failures: 0,
        disabled_reason: None,
        created_at: t(created_ms),
        updated_at: t(created_ms),
    }
}
