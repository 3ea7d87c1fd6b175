//! `refshare seed`: a synthetic platform for benchmarks and demos, written through the
//! store's bulk writers (`Tx::bulk_*`), not one use case per row.
//!
//! What it makes, from one deterministic RNG (`--seed`; only the partners' API keys are
//! truly random, since they are secrets):
//! - collection partners covering every country used, a USD rate for every day used;
//! - `P` referral partners with one API key each; the largest gets about 10 % of the cases,
//!   the others a Zipf share, and about 10 % of the cases belong to clients of no partner;
//! - clients in every state: attributed (partner-created, onboarded), onboarding pending,
//!   non-attributed through an approved link request, with a pending, declined or expired
//!   request, with an archived or deleted link, and direct clients; their users;
//! - cases across the five sources, four currencies groups and every lifecycle;
//! - payments, each decided exactly as `book_payment` decides it: the core attribution
//!   engine ([`decide`]) on the client's links and requests at the payment's instant, the
//!   core fee split, and the same payment, payout, decision, earning, ledger entry and
//!   audit rows; a share of older payouts then had their commission paid, written as
//!   `commission_paid` leaves them (rate locked that day, the ledger moved by core
//!   [`moves`], the same audit rows). No webhook subscriptions exist, so, as in the app,
//!   no webhook events are written; no mail is queued.
//!
//! Everything happens in the past of `App::now()`: partners a little over a year ago,
//! payments up to a day ago.

use std::collections::HashMap;

use chrono::Duration;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use refshare_core::attribution::{decide, CaseFacts, ClientFacts};
use refshare_core::case::{CaseSource, DebtorType, Lifecycle};
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use refshare_core::ledger::{moves, stage_of, EarningKind, EarningStatuses};
use refshare_core::link::{Link, LinkEvent, LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_core::money::{format_minor, Bps, Currency, RATE_SCALE};
use refshare_core::people::PersonStatus;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode, RevenueStage};
use refshare_core::Instant;
use refshare_store::{
    ApiKeyRecord, AuditRecord, CaseAssignment, CaseRecord, ClientRecord, ClientUserRecord, CollectionPartnerRecord, DecisionRecord,
    EarningReadModel, EarningRecord, LedgerEntryRecord, LinkRequestRecord, PartnerRecord, PaymentRecord, PayoutRecord, SdcaSignature,
};
use uuid::Uuid;

use crate::auth::{hash_secret, new_api_key};
use crate::{actor, App, AppError};

/// What to make.
#[derive(Debug, Clone, Copy)]
pub struct SeedSpec {
    pub cases: u64,
    pub payments: u64,
    pub partners: u32,
    /// Seed of the generator: the same seed makes the same platform (keys aside).
    pub seed: u64,
}

/// What was made.
#[derive(Debug, Clone)]
pub struct SeedSummary {
    pub partners: u64,
    pub clients: u64,
    pub cases: u64,
    pub payments: u64,
    /// The API key of the partner with the most cases.
    pub partner_key: String,
}

/// Where the seed reports its progress (the CLI draws a bar).
pub trait SeedProgress {
    /// A new phase of `total` steps.
    fn phase(&self, name: &str, total: u64);
    /// `n` more steps of the phase are done.
    fn advance(&self, n: u64);
}

/// Why a seed refused to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedRefusal {
    /// The database already holds partners, clients, cases or collection partners.
    NotEmpty,
    /// A count is out of range (the message says which).
    Bad(String),
}

/// Rows per transaction of cases and of payments (each payment writes 3 to 8 rows).
const CHUNK: usize = 10_000;
/// Largest counts accepted.
const MAX_CASES: u64 = 20_000_000;
const MAX_PARTNERS: u32 = 10_000;
/// Days of history.
const HISTORY_DAYS: i64 = 365;

/// The state a client is in, which decides its links, requests and case sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    /// Created by the partner (`POST /clients`), attributed link, onboarded.
    Attributed,
    /// An existing client that approved the partner's link request: non-attributed link.
    NonAttributed,
    /// Created by the partner, never signed: its cases wait in `PendingContractSigning`.
    OnboardingPending,
    /// An existing client with the partner's request still pending.
    RequestPending,
    RequestDeclined,
    RequestExpired,
    /// Attributed link later archived (or deleted) by the operator.
    Archived,
    Deleted,
    /// No partner at all.
    Direct,
}

/// The first eight clients of a partner cover every state, then mostly attributed ones.
const PARTNER_STATES: [ClientState; 20] = {
    use ClientState::*;
    [
        Attributed,
        NonAttributed,
        OnboardingPending,
        RequestPending,
        RequestDeclined,
        RequestExpired,
        Archived,
        Deleted,
        Attributed,
        Attributed,
        NonAttributed,
        Attributed,
        Attributed,
        OnboardingPending,
        Attributed,
        NonAttributed,
        Attributed,
        Attributed,
        Archived,
        Attributed,
    ]
};

impl ClientState {
    /// How many cases such a client has, relative to an attributed one.
    fn case_weight(self) -> f64 {
        match self {
            ClientState::Attributed | ClientState::NonAttributed | ClientState::Archived | ClientState::Direct => 1.0,
            ClientState::OnboardingPending => 0.2,
            _ => 0.5,
        }
    }
}

/// Countries with their currency and the collection partner covering them.
const COUNTRIES: [(&str, &str, usize); 9] = [
    ("DK", "DKK", 0),
    ("SE", "SEK", 0),
    ("NO", "NOK", 0),
    ("DE", "EUR", 1),
    ("FR", "EUR", 1),
    ("NL", "EUR", 1),
    ("ES", "EUR", 1),
    ("GB", "GBP", 2),
    ("US", "USD", 3),
];

/// Collection partners: name, success fee, platform share.
const COLLECTION_PARTNERS: [(&str, u32, u32); 4] = [
    ("Nordic Recovery", 1500, 4000),
    ("EuroCollect", 1800, 3500),
    ("Albion Debt Services", 1500, 4000),
    ("Liberty Collections", 2000, 3000),
];

/// USD per unit of each non-USD currency on the first day (×1e8); it drifts daily.
const BASE_RATES: [(&str, i64); 5] =
    [("DKK", 14_500_000), ("SEK", 9_500_000), ("NOK", 9_300_000), ("EUR", 108_000_000), ("GBP", 127_000_000)];

const ADJECTIVES: [&str; 24] = [
    "Nordic", "Blue", "Green", "Silver", "Golden", "Northern", "Coastal", "Urban", "Royal", "Swift", "Bright", "Solid", "Prime", "Alpine",
    "Harbor", "Summit", "Red", "Oak", "Iron", "Crystal", "Polar", "Sunny", "Granite", "Maple",
];
const NOUNS: [&str; 24] = [
    "Logistics",
    "Bakery",
    "Consulting",
    "Builders",
    "Textiles",
    "Media",
    "Foods",
    "Motors",
    "Dental",
    "Software",
    "Furniture",
    "Electrics",
    "Print",
    "Freight",
    "Gardens",
    "Optics",
    "Marine",
    "Energy",
    "Pharma",
    "Design",
    "Travel",
    "Plumbing",
    "Security",
    "Labs",
];
const FIRST_NAMES: [&str; 16] = [
    "Anna", "Lars", "Sofie", "Mikkel", "Emma", "Jonas", "Clara", "Noah", "Ida", "Oliver", "Marie", "Lucas", "Eva", "Hugo", "Nora", "Felix",
];
const LAST_NAMES: [&str; 16] = [
    "Jensen",
    "Berg",
    "Nielsen",
    "Schmidt",
    "Martin",
    "Smith",
    "Jones",
    "Dubois",
    "Larsen",
    "Meyer",
    "Brown",
    "Garcia",
    "Hansen",
    "Muller",
    "Taylor",
    "Lindqvist",
];

fn company_suffix(country: &str) -> &'static str {
    match country {
        "DK" => "ApS",
        "SE" | "NO" => "AB",
        "DE" => "GmbH",
        "FR" => "SARL",
        "NL" => "B.V.",
        "ES" => "S.L.",
        "GB" => "Ltd",
        _ => "Inc.",
    }
}

/// A client while the platform is generated.
struct SeedClient {
    record: ClientRecord,
    partner: Option<usize>,
    state: ClientState,
    /// Index into [`COUNTRIES`].
    country: usize,
    links: Vec<Link>,
    requests: Vec<LinkRequest>,
    /// Cases are created in `[cases_from, cases_to]`.
    cases_from: Instant,
    cases_to: Instant,
    /// The partner may create cases (partner API) from this instant until `partner_until`.
    partner_from: Option<Instant>,
    partner_until: Instant,
}

/// What a payment needs to know of its case.
struct CaseLite {
    id: Uuid,
    client: u32,
    created_at: Instant,
    amount_minor: i64,
    paid_minor: i64,
    source: CaseSource,
    creating_partner: Option<Uuid>,
    currency: Currency,
    assignment: Option<CaseAssignment>,
}

/// Ids handed out so far by [`id`] in this process.
static ID_SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A UUID in the version 7 layout whose 48-bit "time" field is a sequence (from 2020-01-01
/// on, one millisecond per id) and whose other bits come from the seeded generator: ids
/// grow in the order rows are written, so primary-key inserts append to their B-trees
/// instead of landing all over them.
fn id(rng: &mut StdRng) -> Uuid {
    const BASE_MS: u64 = 1_577_836_800_000;
    let seq = BASE_MS + ID_SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let random: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(seq, &random).into_uuid()
}

fn between(rng: &mut StdRng, from: Instant, to: Instant) -> Instant {
    let (a, b) = (from.timestamp_millis(), to.timestamp_millis());
    if b <= a {
        return from;
    }
    chrono::DateTime::from_timestamp_millis(rng.gen_range(a..=b)).expect("in range")
}

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

/// Case shares of the partners, largest first: the largest holds about 10 % of all cases
/// (more when there are too few partners for that to be the largest), the others a Zipf
/// share of the rest of the 90 % that partners hold.
/// The tables the payments phase writes, whose secondary indexes it builds at its end.
const PAYMENT_TABLES: &[&str] = &["payments", "payouts", "attribution_decisions", "earnings", "ledger_entries", "audit_log"];

fn partner_shares(partners: usize) -> Vec<f64> {
    const PARTNERS_SHARE: f64 = 0.9;
    if partners == 1 {
        return vec![PARTNERS_SHARE];
    }
    let z: f64 = (2..=partners).map(|r| 1.0 / r as f64).sum();
    let largest = (0.45 / (z + 0.5)).max(0.10);
    let mut shares = vec![largest];
    shares.extend((2..=partners).map(|r| (PARTNERS_SHARE - largest) * (1.0 / r as f64) / z));
    shares
}

fn audit_row(
    rng: &mut StdRng,
    at: Instant,
    who: &str,
    action: &str,
    entity: &str,
    entity_id: String,
    detail: serde_json::Value,
) -> AuditRecord {
    AuditRecord { id: id(rng), at, actor: who.to_string(), action: action.into(), entity: entity.into(), entity_id, detail }
}

impl App {
    /// Writes a synthetic platform of `spec` into an empty database (see the module).
    pub async fn seed(&self, spec: SeedSpec, progress: &dyn SeedProgress) -> Result<Result<SeedSummary, SeedRefusal>, AppError> {
        if spec.partners == 0 || spec.partners > MAX_PARTNERS {
            return Ok(Err(SeedRefusal::Bad(format!("--partners must be between 1 and {MAX_PARTNERS}"))));
        }
        if spec.cases > MAX_CASES || spec.payments > MAX_CASES {
            return Ok(Err(SeedRefusal::Bad(format!("--cases and --payments must be at most {MAX_CASES}"))));
        }
        if spec.payments > 0 && spec.cases == 0 {
            return Ok(Err(SeedRefusal::Bad("--payments needs cases to pay (--cases)".into())));
        }
        {
            let mut tx = self.store.begin().await?;
            if !tx.seed_target_is_empty().await? {
                return Ok(Err(SeedRefusal::NotEmpty));
            }
            tx.seed_tune().await?;
            tx.commit().await?;
        }
        let now = self.now();
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let start = now - Duration::days(HISTORY_DAYS);
        let created = start - Duration::days(35);

        // 1. Reference data: collection partners, rates, partners and their keys.
        progress.phase("partners and clients", 1);
        let cps: Vec<CollectionPartnerRecord> = COLLECTION_PARTNERS
            .iter()
            .enumerate()
            .map(|(i, (name, success, share))| CollectionPartnerRecord {
                id: id(&mut rng),
                name: name.to_string(),
                success_fee_bps: Bps(*success),
                platform_share_bps: Bps(*share),
                countries: COUNTRIES.iter().filter(|c| c.2 == i).map(|c| c.0.to_string()).collect(),
                created_at: created + Duration::minutes(i as i64),
            })
            .collect();
        let mut rates = Vec::new();
        let mut rate_of: HashMap<(String, String), i64> = HashMap::new();
        for (code, base) in BASE_RATES {
            let mut rate = base as f64;
            let mut day = (created - Duration::days(1)).date_naive();
            while day <= now.date_naive() {
                rate *= 1.0 + rng.gen_range(-0.004..0.004);
                let d = day.format("%Y-%m-%d").to_string();
                rate_of.insert((code.to_string(), d.clone()), rate.round() as i64);
                rates.push((code.to_string(), d, rate.round() as i64));
                day = day.succ_opt().expect("a next day");
            }
        }
        let p = spec.partners as usize;
        let mut partners = Vec::with_capacity(p);
        let mut keys = Vec::with_capacity(p);
        let mut largest_key = String::new();
        for i in 0..p {
            let at = created + Duration::hours(1) + Duration::minutes(i as i64);
            let name = format!("{} {} Partners {:03}", pick(&mut rng, &ADJECTIVES), pick(&mut rng, &NOUNS), i + 1);
            let partner = PartnerRecord {
                id: id(&mut rng),
                company_name: name,
                contact_email: format!("partner{:03}@partners.example.com", i + 1),
                referral_fee_bps: Bps([5000, 5000, 3000, 2500, 4000][i % 5]),
                approval_ttl_days: [7, 14, 7, 30][i % 4],
                invoicing_trigger_mode: if i % 4 == 3 {
                    InvoicingTriggerMode::ConfirmedPipeline
                } else {
                    InvoicingTriggerMode::PayWhenPaid
                },
                branding: serde_json::json!({"logoUrl": null, "backgroundColorCode": "#0a7cff", "fontColor": "#ffffff", "fontFamily": null}),
                created_at: at,
            };
            // A secret: from the operating system, never from the seed.
            let key = new_api_key("rsp");
            keys.push(ApiKeyRecord {
                id: id(&mut rng),
                partner_id: partner.id,
                key_hash: hash_secret(&key),
                key_prefix: key[..10].to_string(),
                created_at: at,
                revoked_at: None,
            });
            if i == 0 {
                largest_key = key;
            }
            partners.push(partner);
        }

        // 2. Clients, users, links and link requests.
        let shares = partner_shares(p);
        let cases_total = spec.cases as f64;
        let mut owners: Vec<Option<usize>> = Vec::new();
        let mut owner_share: Vec<f64> = Vec::new();
        for (i, s) in shares.iter().enumerate() {
            let n = ((cases_total * s) / 40.0).ceil().max(8.0) as usize;
            owners.extend(std::iter::repeat_n(Some(i), n));
            owner_share.extend(std::iter::repeat_n(s / n as f64, n));
        }
        let direct = ((cases_total * 0.1) / 40.0).ceil().max(4.0) as usize;
        owners.extend(std::iter::repeat_n(None, direct));
        owner_share.extend(std::iter::repeat_n(0.1 / direct as f64, direct));

        let version = self.agreement().version().to_string();
        let mut clients: Vec<SeedClient> = Vec::with_capacity(owners.len());
        let mut users: Vec<ClientUserRecord> = Vec::new();
        let mut per_partner = vec![0usize; p];
        let mut audits: Vec<AuditRecord> = Vec::new();
        let mut all_requests: Vec<LinkRequestRecord> = Vec::new();
        let latest_case = now - Duration::days(2);
        for (ci, owner) in owners.iter().enumerate() {
            let state = match owner {
                Some(pi) => {
                    let s = PARTNER_STATES[per_partner[*pi] % PARTNER_STATES.len()];
                    per_partner[*pi] += 1;
                    s
                }
                None => ClientState::Direct,
            };
            let country = rng.gen_range(0..COUNTRIES.len());
            let code = COUNTRIES[country].0;
            let tc = between(&mut rng, start, now - Duration::days(120));
            let client_id = id(&mut rng);
            let company = format!("{} {} {}", pick(&mut rng, &ADJECTIVES), pick(&mut rng, &NOUNS), company_suffix(code));
            let n_users = rng.gen_range(1..=3);
            let mut cu = Vec::new();
            for k in 0..n_users {
                let (first, last) = (pick(&mut rng, &FIRST_NAMES), pick(&mut rng, &LAST_NAMES));
                cu.push(ClientUserRecord {
                    id: id(&mut rng),
                    client_id,
                    name: format!("{first} {last}"),
                    email: format!("{}.{}{}@client{}.example.com", first.to_lowercase(), last.to_lowercase(), k, ci + 1),
                    phone: None,
                    is_onboarding_user: k == 0,
                    status: PersonStatus::Invited,
                    last_sign_in_at: None,
                });
            }
            let partner = owner.map(|pi| &partners[pi]);
            let onboarded = match state {
                ClientState::OnboardingPending => None,
                _ => Some(tc + Duration::hours(rng.gen_range(2..120))),
            };
            if let Some(at) = onboarded {
                cu[0].status = PersonStatus::Active;
                cu[0].last_sign_in_at = Some(at);
            }
            let sdca = onboarded.map(|at| SdcaSignature {
                signer_name: cu[0].name.clone(),
                signed_at: at,
                ip: format!("203.0.113.{}", rng.gen_range(1..255)),
                user_agent: "Mozilla/5.0 (X11; Linux x86_64) refshare-seed".into(),
                version: version.clone(),
                signer_user_id: Some(cu[0].id),
                verified_by: Some("link".into()),
            });
            let record = ClientRecord {
                id: client_id,
                company_name: company,
                country: code.to_string(),
                registration_number: Some(format!("{code}{:08}", 10_000_000 + ci)),
                support_email: Some(format!("support@client{}.example.com", ci + 1)),
                details: serde_json::json!({"address": format!("{} Street {}", pick(&mut rng, &LAST_NAMES), rng.gen_range(1..200)),
                    "zipCode": format!("{}", rng.gen_range(1000..9999)), "city": null, "state": null, "supportPhone": null}),
                api_key_hash: None,
                onboarding_completed_at: onboarded,
                sdca,
                created_at: tc,
            };
            let tenant = format!("tenant-{}", ci + 1);
            let mut links = Vec::new();
            let mut requests = Vec::new();
            let mut req_records = Vec::new();
            let (mut partner_from, mut partner_until) = (None, latest_case);
            let cases_from = onboarded.unwrap_or(tc) + Duration::hours(1);
            let link_at = |rng: &mut StdRng, at: Instant, attributed: bool, who: String, partner: &PartnerRecord| Link {
                id: id(rng),
                partner_id: partner.id,
                client_id,
                external_tenant_id: tenant.clone(),
                is_attributed: attributed,
                referral_fee_bps: partner.referral_fee_bps,
                linked_at: at,
                history: vec![LinkEvent { at, status: LinkStatus::Active, actor: who, reason: None }],
            };
            let mut request =
                |rng: &mut StdRng, at: Instant, status: LinkRequestStatus, decided: Option<Instant>, partner: &PartnerRecord| {
                    let rid = id(rng);
                    let r = LinkRequest {
                        id: rid,
                        partner_id: partner.id,
                        client_id,
                        external_tenant_id: tenant.clone(),
                        created_at: at,
                        expires_at: at + Duration::days(partner.approval_ttl_days),
                        status,
                        decided_at: decided,
                    };
                    req_records.push(LinkRequestRecord {
                        request: r.clone(),
                        token_hash: hash_secret(&self.approval_token(rid)),
                        cases_json: "[]".into(),
                        return_url: None,
                        decided_by_user_id: decided.filter(|_| status != LinkRequestStatus::Expired).map(|_| cu[0].id),
                    });
                    r
                };
            match (state, partner) {
                (ClientState::Attributed | ClientState::OnboardingPending | ClientState::Archived | ClientState::Deleted, Some(pr)) => {
                    let mut l = link_at(&mut rng, tc, true, actor::partner(pr.id), pr);
                    partner_from = Some(tc);
                    if matches!(state, ClientState::Archived | ClientState::Deleted) {
                        let ta = between(&mut rng, tc + Duration::days(60), now - Duration::days(5));
                        let (status, reason) = match state {
                            ClientState::Archived => (LinkStatus::Archived, "client left the partner's software"),
                            _ => (LinkStatus::Deleted, "linked by mistake"),
                        };
                        l.history.push(LinkEvent { at: ta, status, actor: actor::OPERATOR.into(), reason: Some(reason.into()) });
                        partner_until = ta;
                    }
                    links.push(l);
                }
                (ClientState::NonAttributed, Some(pr)) => {
                    let tr = between(&mut rng, tc + Duration::days(10), tc + Duration::days(60));
                    let approved = tr + Duration::hours(rng.gen_range(1..48));
                    requests.push(request(&mut rng, tr, LinkRequestStatus::Approved, Some(approved), pr));
                    links.push(link_at(&mut rng, approved, false, actor::client_user(cu[0].id), pr));
                    partner_from = Some(approved);
                }
                (ClientState::RequestPending, Some(pr)) => {
                    let tr = now - Duration::hours(rng.gen_range(1..(pr.approval_ttl_days * 24 - 1).max(2)));
                    requests.push(request(&mut rng, tr, LinkRequestStatus::Pending, None, pr));
                }
                (ClientState::RequestDeclined, Some(pr)) => {
                    let tr = between(&mut rng, tc + Duration::days(10), now - Duration::days(5));
                    let decided = tr + Duration::hours(rng.gen_range(1..72));
                    requests.push(request(&mut rng, tr, LinkRequestStatus::Declined, Some(decided), pr));
                }
                (ClientState::RequestExpired, Some(pr)) => {
                    let tr = between(&mut rng, tc + Duration::days(10), now - Duration::days(pr.approval_ttl_days + 2));
                    let expires = tr + Duration::days(pr.approval_ttl_days);
                    requests.push(request(&mut rng, tr, LinkRequestStatus::Expired, Some(expires), pr));
                }
                _ => {}
            }
            let (who, action, entity, entity_id) = match (state, partner, links.first()) {
                (
                    ClientState::Attributed | ClientState::OnboardingPending | ClientState::Archived | ClientState::Deleted,
                    Some(pr),
                    Some(l),
                ) => (actor::partner(pr.id), "client.created", "link", l.id.to_string()),
                _ => (actor::OPERATOR.to_string(), "client.created_direct", "client", client_id.to_string()),
            };
            audits.push(audit_row(
                &mut rng,
                tc,
                &who,
                action,
                entity,
                entity_id,
                match action {
                    "client.created" => serde_json::json!({"clientId": client_id, "externalTenantId": tenant}),
                    _ => serde_json::json!({"clientId": client_id}),
                },
            ));
            if let (Some(at), Some(sig)) = (onboarded, &record.sdca) {
                audits.push(audit_row(
                    &mut rng,
                    at,
                    &actor::client_user(cu[0].id),
                    "client.onboarding_completed",
                    "client",
                    client_id.to_string(),
                    serde_json::json!({"signer": sig.signer_name, "signerUserId": cu[0].id, "verifiedBy": sig.verified_by, "ip": sig.ip, "sdcaVersion": sig.version}),
                ));
            }
            users.extend(cu);
            clients.push(SeedClient {
                record,
                partner: *owner,
                state,
                country,
                links,
                requests,
                cases_from,
                cases_to: latest_case,
                partner_from,
                partner_until,
            });
            all_requests.extend(req_records);
        }
        {
            let mut tx = self.store.begin().await?;
            tx.bulk_collection_partners(&cps).await?;
            tx.bulk_fx_rates(&rates).await?;
            tx.bulk_partners(&partners).await?;
            tx.bulk_api_keys(&keys).await?;
            let records: Vec<ClientRecord> = clients.iter().map(|c| c.record.clone()).collect();
            tx.bulk_clients(&records).await?;
            tx.bulk_client_users(&users).await?;
            let links: Vec<Link> = clients.iter().flat_map(|c| c.links.iter().cloned()).collect();
            tx.bulk_links(&links).await?;
            tx.bulk_link_requests(&all_requests).await?;
            tx.bulk_audit(&audits).await?;
            tx.commit().await?;
        }
        progress.advance(1);
        drop(users);
        drop(audits);

        // 3. Cases, each for a client drawn by its share.
        let mut cumulative = Vec::with_capacity(clients.len());
        let mut acc = 0.0;
        for (c, s) in clients.iter().zip(&owner_share) {
            acc += s * c.state.case_weight() * rng.gen_range(0.2..1.8);
            cumulative.push(acc);
        }
        progress.phase("cases", spec.cases);
        let mut lites: Vec<CaseLite> = Vec::with_capacity(spec.cases as usize);
        let mut number: i64 = 10_000;
        let prefix = self.config.case_prefix.clone();
        let mut left = spec.cases as usize;
        while left > 0 {
            let n = left.min(CHUNK);
            left -= n;
            let mut cases = Vec::with_capacity(n);
            let mut audits = Vec::with_capacity(n);
            for _ in 0..n {
                let x = rng.gen_range(0.0..acc);
                let ci = cumulative.partition_point(|c| *c <= x).min(clients.len() - 1);
                let c = &clients[ci];
                let (code, currency, cp) = COUNTRIES[c.country];
                let currency = Currency::parse(currency).expect("a known currency");
                let created_at = between(&mut rng, c.cases_from, c.cases_to);
                let partner = c.partner.map(|pi| &partners[pi]);
                let by_partner = match (c.partner_from, partner) {
                    (Some(from), Some(_)) => {
                        created_at >= from
                            && created_at < c.partner_until
                            && rng.gen_bool(match c.state {
                                ClientState::NonAttributed => 0.4,
                                _ => 0.8,
                            })
                    }
                    _ => false,
                } || c.state == ClientState::OnboardingPending;
                let source = if by_partner {
                    CaseSource::PartnerApi
                } else {
                    [CaseSource::WebApp, CaseSource::WebApp, CaseSource::CsvImport, CaseSource::CustomerApi, CaseSource::Operator]
                        [rng.gen_range(0..5)]
                };
                number += 1;
                let reference = format!("{prefix}{number}");
                let debtor_country = if rng.gen_bool(0.9) { code } else { COUNTRIES[rng.gen_range(0..COUNTRIES.len())].0 };
                let debtor_cp = &cps[COUNTRIES.iter().find(|x| x.0 == debtor_country).map_or(cp, |x| x.2)];
                let (debtor_type, debtor_name) = if rng.gen_bool(0.7) {
                    (
                        DebtorType::Company,
                        format!("{} {} {}", pick(&mut rng, &ADJECTIVES), pick(&mut rng, &NOUNS), company_suffix(debtor_country)),
                    )
                } else {
                    (DebtorType::Private, format!("{} {}", pick(&mut rng, &FIRST_NAMES), pick(&mut rng, &LAST_NAMES)))
                };
                let amount_minor = 10f64.powf(rng.gen_range(3.7..6.3)).round() as i64;
                let onboarded = c.record.onboarding_completed_at.is_some();
                let (lifecycle, assignment) = if onboarded {
                    let lifecycle = match rng.gen_range(0..100) {
                        0..=84 => Lifecycle::Active,
                        85..=89 => Lifecycle::Paused,
                        _ => Lifecycle::Closed,
                    };
                    let a = CaseAssignment {
                        collection_partner_id: debtor_cp.id,
                        success_fee_bps: debtor_cp.success_fee_bps,
                        platform_share_bps: debtor_cp.platform_share_bps,
                    };
                    (lifecycle, Some(a))
                } else {
                    (Lifecycle::PendingContractSigning, None)
                };
                let creditor_reference = if rng.gen_bool(0.8) { format!("INV-{number:08}") } else { reference.clone() };
                let mut details = serde_json::json!({
                    "currencyCode": currency.code(),
                    "amountToRecover": serde_json::Value::Number(format_minor(amount_minor, currency.exponent()).parse().expect("a number")),
                    "debtor": {"type": debtor_type.as_str(), "name": debtor_name, "countryAlpha2": debtor_country},
                });
                if creditor_reference != reference {
                    details["creditorReference"] = serde_json::Value::String(creditor_reference.clone());
                }
                if !onboarded {
                    details["allowPendingContracts"] = serde_json::Value::Bool(true);
                }
                let creating_partner = if source == CaseSource::PartnerApi { partner.map(|p| p.id) } else { None };
                let updated_at =
                    if matches!(lifecycle, Lifecycle::Paused | Lifecycle::Closed) { now - Duration::hours(12) } else { created_at };
                let case = CaseRecord {
                    id: id(&mut rng),
                    reference,
                    client_id: c.record.id,
                    creditor_reference,
                    source,
                    creating_partner_id: creating_partner,
                    created_at,
                    updated_at,
                    lifecycle,
                    close_code: None,
                    amount_minor,
                    currency,
                    debtor_type: debtor_type.as_str().to_string(),
                    debtor_name,
                    debtor_country: debtor_country.to_string(),
                    details,
                    assignment,
                    paid_minor: 0,
                };
                let who = match (source, creating_partner) {
                    (CaseSource::PartnerApi, Some(p)) => actor::partner(p),
                    (CaseSource::Operator, _) => actor::OPERATOR.to_string(),
                    _ => actor::client(c.record.id),
                };
                audits.push(audit_row(
                    &mut rng,
                    created_at,
                    &who,
                    "case.created",
                    "case",
                    case.id.to_string(),
                    serde_json::json!({"reference": case.reference, "source": source.as_str()}),
                ));
                lites.push(CaseLite {
                    id: case.id,
                    client: ci as u32,
                    created_at,
                    amount_minor,
                    paid_minor: 0,
                    source,
                    creating_partner,
                    currency,
                    assignment,
                });
                cases.push(case);
            }
            let mut tx = self.store.begin().await?;
            tx.bulk_cases(&cases).await?;
            tx.bulk_audit(&audits).await?;
            if left == 0 {
                tx.raise_case_counter(number).await?;
            }
            tx.commit().await?;
            progress.advance(n as u64);
        }

        // 4. Payments on payable cases, decided by the engine at their instant.
        let payable: Vec<u32> = (0..lites.len() as u32).filter(|i| lites[*i as usize].assignment.is_some()).collect();
        let mut made: u64 = 0;
        progress.phase("payments", spec.payments);
        if payable.is_empty() && spec.payments > 0 {
            return Ok(Err(SeedRefusal::Bad("no case can take a payment: every client is waiting for onboarding".into())));
        }
        let last_payment = now - Duration::days(1);
        let mut left = spec.payments as usize;
        let mut external = 0u64;
        // The payments' tables grow by a million rows: their secondary indexes are built
        // once at the end, sorted, instead of updated row by row (see `Tx::seed_drop_indexes`).
        let deferred = {
            let mut tx = self.store.begin().await?;
            let d = tx.seed_drop_indexes(PAYMENT_TABLES).await?;
            tx.commit().await?;
            d
        };
        while left > 0 {
            let n = left.min(CHUNK);
            left -= n;
            let mut out = PaymentRows::default();
            for _ in 0..n {
                // A case with something still owed (almost always the first one drawn).
                let mut k = payable[rng.gen_range(0..payable.len())] as usize;
                for _ in 0..20 {
                    if lites[k].amount_minor - lites[k].paid_minor >= 200 {
                        break;
                    }
                    k = payable[rng.gen_range(0..payable.len())] as usize;
                }
                external += 1;
                self.seed_payment(&mut rng, &mut out, &mut lites[k], &clients, &partners, &rate_of, external, last_payment, now);
            }
            let mut tx = self.store.begin().await?;
            tx.bulk_payments(&out.payments).await?;
            tx.bulk_payouts(&out.payouts).await?;
            tx.bulk_decisions(&out.decisions).await?;
            tx.bulk_earnings(&out.earnings).await?;
            tx.bulk_ledger_entries(&out.ledger).await?;
            tx.bulk_audit(&out.audits).await?;
            tx.commit().await?;
            made += n as u64;
            progress.advance(n as u64);
        }
        progress.phase("indexes", deferred.len() as u64);
        {
            let n = deferred.len() as u64;
            let mut tx = self.store.begin().await?;
            tx.seed_build_indexes(deferred).await?;
            tx.commit().await?;
            progress.advance(n);
        }
        // The seeded rates were written in bulk: the estimate totals to today's rates.
        self.refresh_estimates().await?;
        Ok(Ok(SeedSummary {
            partners: partners.len() as u64,
            clients: clients.len() as u64,
            cases: lites.len() as u64,
            payments: made,
            partner_key: largest_key,
        }))
    }
}

/// The rows of a chunk of payments.
#[derive(Default)]
struct PaymentRows {
    payments: Vec<PaymentRecord>,
    payouts: Vec<PayoutRecord>,
    decisions: Vec<DecisionRecord>,
    earnings: Vec<(EarningRecord, EarningReadModel)>,
    ledger: Vec<LedgerEntryRecord>,
    audits: Vec<AuditRecord>,
}

impl App {
    /// One payment on `case`, with the rows `book_payment` writes for it, and, for a share
    /// of the older ones, the rows `commission_paid` adds later.
    #[allow(clippy::too_many_arguments)]
    fn seed_payment(
        &self,
        rng: &mut StdRng,
        out: &mut PaymentRows,
        case: &mut CaseLite,
        clients: &[SeedClient],
        partners: &[PartnerRecord],
        rates: &HashMap<(String, String), i64>,
        external: u64,
        last_payment: Instant,
        now: Instant,
    ) {
        let client = &clients[case.client as usize];
        let assignment = case.assignment.expect("payable cases have a collection partner");
        let remainder = (case.amount_minor - case.paid_minor).max(0);
        // At most what is still owed: never an overpayment.
        let amount =
            if remainder <= 200 { remainder.max(1) } else { ((remainder as f64) * rng.gen_range(0.05..0.6)).round().max(100.0) as i64 };
        let amount = amount.min(remainder.max(1));
        let is_overpayment = amount > remainder;
        let t = between(rng, case.created_at + Duration::hours(1), last_payment.max(case.created_at + Duration::hours(1)));
        let split = split_payment(
            amount,
            FeeTerms { success_fee_bps: assignment.success_fee_bps, platform_share_bps: assignment.platform_share_bps },
        )
        .expect("seeded amounts are small");
        let facts = ClientFacts {
            links: &client.links,
            requests: &client.requests,
            onboarding_completed_at: client.record.onboarding_completed_at,
        };
        let d = decide(CaseFacts { created_at: case.created_at, source: case.source, creating_partner: case.creating_partner }, facts, t);
        let fee = d.referral_fee_bps.map_or(0, |bps| referral_fee(split.platform_fee, bps).expect("seeded amounts are small"));
        let payment = PaymentRecord {
            id: id(rng),
            case_id: case.id,
            amount_minor: amount,
            currency: case.currency,
            paid_at: t - Duration::hours(rng.gen_range(0..48)).min(t - case.created_at),
            external_id: Some(format!("SEED-{external:09}")),
            created_at: t,
            is_overpayment,
        };
        let mut payout = PayoutRecord {
            id: id(rng),
            payment_id: payment.id,
            case_id: case.id,
            collection_partner_id: Some(assignment.collection_partner_id),
            success_fee_minor: split.success_fee,
            platform_fee_minor: split.platform_fee,
            currency: case.currency,
            created_at: t,
            commission_status: CommissionStatus::Unpaid,
            commission_paid_at: None,
            fx_usd_per_unit_e8: None,
            fx_rate_date: None,
            cp_invoice_id: None,
        };
        let decision = crate::payments::decision_record(id(rng), payout.id, &d, fee, case.currency, t);
        // The earning and its first entries (`sync_earning` with cause `earning.created`).
        let mut earning = None;
        if let (true, Some(partner_id), true) = (d.attributed, d.partner_id, fee > 0) {
            let e = EarningRecord {
                decision_id: Some(decision.id),
                ..EarningRecord::new(id(rng), &payout, partner_id, EarningKind::Payout, fee, t)
            };
            let mode = partners.iter().find(|p| p.id == partner_id).map_or(InvoicingTriggerMode::PayWhenPaid, |p| p.invoicing_trigger_mode);
            let stage = stage_of(e.kind, statuses(&payout, &e, mode));
            self.seed_sync(rng, out, &e, &[], stage, "earning.created", payout.id, t);
            earning = Some((e, mode, stage));
        }
        out.audits.push(audit_row(
            rng,
            t,
            actor::OPERATOR,
            "payment.registered",
            "case",
            case.id.to_string(),
            serde_json::json!({
                "paymentId": payment.id, "payoutId": payout.id, "amountMinor": amount, "reason": d.reason.as_str(), "referralFeeMinor": fee,
                "overpayment": is_overpayment, "remainderBeforeMinor": remainder,
            }),
        ));
        case.paid_minor += amount;

        // Later, for most payouts older than a month: the commission was paid.
        if t < now - Duration::days(30) && rng.gen_bool(0.6) {
            let paid_at = between(rng, t + Duration::days(7), (t + Duration::days(30)).min(now - Duration::hours(1)));
            let date = paid_at.format("%Y-%m-%d").to_string();
            let rate = if case.currency.code() == "USD" {
                RATE_SCALE as i64
            } else {
                *rates.get(&(case.currency.code().to_string(), date.clone())).expect("a rate for every day")
            };
            payout.commission_status = CommissionStatus::Paid;
            payout.commission_paid_at = Some(paid_at);
            payout.fx_usd_per_unit_e8 = Some(rate);
            payout.fx_rate_date = Some(date.clone());
            if let Some((e, mode, before)) = &mut earning {
                let stage = stage_of(e.kind, statuses(&payout, e, *mode));
                self.seed_sync(rng, out, e, &[(*before, e.amount_minor)], stage, "commission.paid", payout.id, paid_at);
                *before = stage;
            }
            out.audits.push(audit_row(
                rng,
                paid_at,
                actor::OPERATOR,
                "commission.paid",
                "payout",
                payout.id.to_string(),
                serde_json::json!({"fxRateDate": date, "usdPerUnitE8": rate}),
            ));
        }
        if let Some((e, _, stage)) = earning {
            let model = EarningReadModel {
                earning_id: e.id,
                stage: Some(stage),
                paid_at: payment.paid_at,
                fx_usd_per_unit_e8: payout.fx_usd_per_unit_e8,
            };
            out.earnings.push((e, model));
        }
        out.payments.push(payment);
        out.payouts.push(payout);
        out.decisions.push(decision);
    }

    /// The entries and audit row `ledger::sync_earning` writes to move `e` from `held` to
    /// `stage` (nothing when the ledger already agrees).
    #[allow(clippy::too_many_arguments)]
    fn seed_sync(
        &self,
        rng: &mut StdRng,
        out: &mut PaymentRows,
        e: &EarningRecord,
        held: &[(RevenueStage, i64)],
        stage: RevenueStage,
        cause: &str,
        cause_id: Uuid,
        at: Instant,
    ) {
        let m = moves(held, Some((stage, e.amount_minor)));
        if m.is_empty() {
            return;
        }
        for (s, amount) in &m {
            out.ledger.push(LedgerEntryRecord {
                id: id(rng),
                partner_id: e.partner_id,
                earning_id: e.id,
                stage: *s,
                amount_minor: *amount,
                currency: e.currency,
                cause: cause.to_string(),
                cause_id: Some(cause_id.to_string()),
                created_at: at,
            });
        }
        let from = held.iter().find(|(_, a)| *a != 0).map(|(s, _)| *s);
        out.audits.push(audit_row(
            rng,
            at,
            actor::SYSTEM,
            "earning.stage_changed",
            "earning",
            e.id.to_string(),
            serde_json::json!({"from": from.map(|s| s.as_str()), "to": stage.as_str(), "cause": cause, "causeId": cause_id.to_string()}),
        ));
    }
}

/// The statuses behind an earning's stage, for a payout not on any CP invoice.
fn statuses(payout: &PayoutRecord, e: &EarningRecord, mode: InvoicingTriggerMode) -> EarningStatuses {
    EarningStatuses {
        commission: payout.commission_status,
        cp_invoice: CpInvoiceStatus::NotInvoiced,
        referral: e.referral_invoice_status,
        mode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_partner_holds_about_a_tenth_and_is_the_largest() {
        let s = partner_shares(200);
        assert!((s[0] - 0.10).abs() < 1e-9, "{}", s[0]);
        assert!(s[1] < s[0] && s[199] < s[1]);
        assert!((s.iter().sum::<f64>() - 0.9).abs() < 1e-9);
        let few = partner_shares(5);
        assert!(few[0] >= few[1], "{few:?}");
    }
}
