//! Client use cases: `POST /clients` (SPEC §4), the partner's client list, withdraw,
//! test-environment reset, bearer tokens, and clients that sign up directly.

use refshare_core::case::{close_code, CaseSource, Lifecycle};
use refshare_core::link::{Link, LinkEvent, LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_core::parse::{required_text, Email};
use refshare_core::people::PersonStatus;

use std::collections::HashMap;

use refshare_store::{
    ClientEarningsUsd, ClientListRow, ClientOrder, ClientPageOf, ClientRecord, ClientUserRecord, LinkRequestRecord, PageReq,
    PartnerClientFilter, PartnerRecord, Tx,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{hash_secret, new_api_key};
use crate::cases::{parse_case, CaseFailure, NewCase, Origin};
use crate::error::ClientError;
use crate::error::FieldError;
use crate::notify::{self, kind};
use crate::signin;
use crate::views::{CaseResults, ClientCreated, ClientListing, ClientState, ClientsSummary};
use crate::webhooks as wh;
use crate::{actor, audit, App, AppError};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDetailsInput {
    pub name: Option<String>,
    pub registration_number: Option<String>,
    pub address: Option<String>,
    pub zip_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub support_email: Option<String>,
    pub support_phone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub is_onboarding_user: Option<bool>,
}

/// `POST /referral-api/clients` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateClientInput {
    pub external_tenant_id: Option<String>,
    pub client: Option<ClientDetailsInput>,
    pub users: Option<Vec<UserInput>>,
    pub cases: Option<Vec<serde_json::Value>>,
    pub return_url: Option<String>,
}

/// `POST /admin-api/v1/clients` body: a client that signed up directly.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectClientInput {
    pub company_name: Option<String>,
    pub country: Option<String>,
    pub support_email: Option<String>,
    pub registration_number: Option<String>,
    pub users: Option<Vec<UserInput>>,
    pub onboarding_done: Option<bool>,
}

/// A validated new client.
struct NewClient {
    record: ClientRecord,
    users: Vec<ClientUserRecord>,
}

fn opt_text(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) -> Option<String> {
    match v.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if s.chars().count() > max => {
            errors.push(FieldError { field: field.into(), message: format!("must be at most {max} characters") });
            None
        }
        Some(s) => Some(s.to_string()),
    }
}

fn req_text(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) -> String {
    match required_text(v.as_deref().unwrap_or(""), max) {
        Ok(s) => s,
        Err(e) => {
            errors.push(FieldError { field: field.into(), message: e.to_string() });
            String::new()
        }
    }
}

fn email(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) -> String {
    match v.as_deref() {
        None | Some("") => {
            errors.push(FieldError { field: field.into(), message: "is required".into() });
            String::new()
        }
        Some(s) => Email::parse(s).map(|e| e.to_string()).unwrap_or_else(|e| {
            errors.push(FieldError { field: field.into(), message: e.to_string() });
            String::new()
        }),
    }
}

fn parse_users(errors: &mut Vec<FieldError>, users: &Option<Vec<UserInput>>, client_id: Uuid) -> Vec<ClientUserRecord> {
    let users = users.as_deref().unwrap_or(&[]);
    if users.is_empty() {
        errors.push(FieldError { field: "users".into(), message: "at least one user is required".into() });
        return Vec::new();
    }
    if users.len() > 50 {
        errors.push(FieldError { field: "users".into(), message: "at most 50 users".into() });
        return Vec::new();
    }
    let flagged = users.iter().filter(|u| u.is_onboarding_user == Some(true)).count();
    if users.len() > 1 && flagged != 1 {
        errors.push(FieldError { field: "users".into(), message: "exactly one user must have isOnboardingUser = true".into() });
    }
    let parsed: Vec<ClientUserRecord> = users
        .iter()
        .enumerate()
        .map(|(i, u)| ClientUserRecord {
            id: Uuid::new_v4(),
            client_id,
            name: req_text(errors, &format!("users[{i}].name"), &u.name, 200),
            email: email(errors, &format!("users[{i}].email"), &u.email),
            phone: None,
            is_onboarding_user: users.len() == 1 || u.is_onboarding_user == Some(true),
            status: PersonStatus::Invited,
            last_sign_in_at: None,
        })
        .collect();
    // One user per address and client (compared case-insensitively, as stored).
    for (i, u) in parsed.iter().enumerate() {
        if !u.email.is_empty() && parsed[..i].iter().any(|o| o.email.to_lowercase() == u.email.to_lowercase()) {
            errors.push(FieldError { field: format!("users[{i}].email"), message: format!("`{}` appears twice in this request", u.email) });
        }
    }
    parsed
}

impl App {
    fn parse_new_client(&self, input: &CreateClientInput, errors: &mut Vec<FieldError>) -> NewClient {
        let id = Uuid::new_v4();
        let d = input.client.clone().unwrap_or_default();
        if input.client.is_none() {
            errors.push(FieldError { field: "client".into(), message: "is required".into() });
        }
        let record = ClientRecord {
            id,
            company_name: req_text(errors, "client.name", &d.name, 200),
            country: req_text(errors, "client.country", &d.country, 100),
            registration_number: opt_text(errors, "client.registrationNumber", &d.registration_number, 100),
            support_email: Some(email(errors, "client.supportEmail", &d.support_email)),
            details: serde_json::json!({
                "address": opt_text(errors, "client.address", &d.address, 500),
                "zipCode": opt_text(errors, "client.zipCode", &d.zip_code, 20),
                "city": opt_text(errors, "client.city", &d.city, 100),
                "state": opt_text(errors, "client.state", &d.state, 100),
                "supportPhone": opt_text(errors, "client.supportPhone", &d.support_phone, 50),
            }),
            api_key_hash: None,
            onboarding_completed_at: None,
            sdca: None,
            created_at: self.now(),
        };
        let users = parse_users(errors, &input.users, id);
        NewClient { record, users }
    }

    /// `POST /clients` (SPEC §4).
    pub async fn create_client(&self, partner: &PartnerRecord, input: CreateClientInput) -> Result<ClientCreated, AppError> {
        // 1. Validate everything first.
        let mut errors = Vec::new();
        let tenant = req_text(&mut errors, "externalTenantId", &input.external_tenant_id, 255);
        let new = self.parse_new_client(&input, &mut errors);
        let return_url = opt_text(&mut errors, "returnUrl", &input.return_url, 2048);
        let raw_cases = input.cases.clone().unwrap_or_default();
        if raw_cases.len() > 100 {
            errors.push(FieldError { field: "cases".into(), message: "at most 100 cases per request".into() });
        }
        let mut cases: Vec<NewCase> = Vec::new();
        for (i, c) in raw_cases.iter().enumerate() {
            match parse_case(c, &format!("cases[{i}].")) {
                Ok(nc) => {
                    if let Some(r) = &nc.creditor_reference {
                        if cases.iter().any(|o| o.creditor_reference.as_ref() == Some(r)) {
                            errors.push(FieldError {
                                field: format!("cases[{i}].creditorReference"),
                                message: format!("`{r}` appears twice in this request"),
                            });
                        }
                    }
                    cases.push(nc);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }

        let mut tx = self.store.begin().await?;
        // 2. Same externalTenantId as an active link: answer its state, create nothing.
        if let Some(link) = tx.active_link_by_tenant(partner.id, &tenant).await? {
            let state = self.client_state(&mut tx, partner.id, link).await?;
            let failed = raw_cases
                .iter()
                .enumerate()
                .map(|(i, c)| CaseFailure {
                    index: i,
                    creditor_reference: c.get("creditorReference").and_then(|v| v.as_str()).map(str::to_string),
                    error_type: "IdempotencyViolation".into(),
                    message: "The client already exists for this externalTenantId; cases are not created on a repeated request. Submit them through the Customer API.".into(),
                    field_errors: vec![],
                })
                .collect();
            let onboarding_done = state.client.onboarding_completed_at.is_some();
            return Ok(ClientCreated { state, cases: CaseResults { successful: vec![], failed }, creditor: None, onboarding_done });
        }

        // 3. Existing-client match.
        let mut emails: Vec<String> = new.users.iter().map(|u| u.email.clone()).collect();
        emails.extend(new.record.support_email.clone());
        let registration = new.record.registration_number.as_deref().map(|r| (new.record.country.as_str(), r));
        let matches = tx.matching_clients(&emails, registration).await?;
        if let Some(existing) = matches.into_iter().next() {
            let links = tx.links_of_client(existing.id).await?;
            if let Some(active) = links.iter().find(|l| l.current_status() == LinkStatus::Active) {
                let linked_as = (active.partner_id == partner.id).then(|| active.external_tenant_id.clone());
                return Err(ClientError::AlreadyLinked { external_tenant_id: tenant, linked_as }.into());
            }
            let url = self.request_link(&mut tx, partner, &existing, &tenant, &raw_cases, return_url).await?;
            tx.commit().await?;
            self.wake_mailer();
            return Err(ClientError::ExistsNeedsLinking { external_tenant_id: tenant, approval_url: url }.into());
        }

        // 4. A new client with an attributed link and its cases.
        let now = self.now();
        tx.insert_client(&new.record, &new.users).await?;
        let link = Link {
            id: Uuid::new_v4(),
            partner_id: partner.id,
            client_id: new.record.id,
            external_tenant_id: tenant.clone(),
            is_attributed: true,
            referral_fee_bps: partner.referral_fee_bps,
            linked_at: now,
            history: vec![LinkEvent { at: now, status: LinkStatus::Active, actor: actor::partner(partner.id), reason: None }],
        };
        tx.insert_link(&link, &actor::partner(partner.id), return_url.as_deref()).await?;
        wh::enqueue_event(
            &mut tx,
            now,
            partner.id,
            wh::event::CLIENT_LINKED,
            wh::outbox::client_data(&tenant, new.record.id, serde_json::json!({"linkId": link.id, "isAttributedClient": true})),
        )
        .await?;
        let origin = Origin { source: CaseSource::PartnerApi, partner: Some(partner.id) };
        let mut results = CaseResults::default();
        for nc in &cases {
            // Validated above and the client is new, so only storage errors remain.
            results.successful.push(self.insert_case(&mut tx, &new.record, nc, origin, true).await?);
        }
        if let Some(u) = new.users.iter().find(|u| u.is_onboarding_user) {
            // The invitation carries a personal sign-in link that lands on the page.
            let page = self.onboarding_url(link.id);
            let expires_at = now + chrono::Duration::days(signin::INVITATION_LINK_TTL_DAYS);
            let personal = self.personal_signin_link(&mut tx, &u.email, &format!("/onboarding/{}", link.id), expires_at).await?;
            let body = |personal: &str| {
                format!(
                    "Hello {},\n\n{} set up debt collection with {platform} for {}. Review your company details and sign the agreement here:\n{}\n\n\
                     You sign in with this e-mail address. Your personal link signs you in and opens the page (it works once, until {}):\n{}\n\n\
                     Do not forward this e-mail: the personal link signs in as you.\n",
                    u.name,
                    partner.company_name,
                    new.record.company_name,
                    page,
                    expires_at.format("%Y-%m-%d %H:%M UTC"),
                    personal,
                    platform = self.platform().name,
                )
            };
            notify::enqueue_secret_related(
                &mut tx,
                self,
                kind::ONBOARDING_INVITATION,
                &u.email,
                &format!("{} invites you to complete your onboarding", partner.company_name),
                body(&personal),
                body(&self.signin_link("********")),
                Some(link.id.to_string()),
            )
            .await?;
        }
        audit(
            &mut tx,
            now,
            &actor::partner(partner.id),
            "client.created",
            "link",
            &link.id.to_string(),
            serde_json::json!({"clientId": new.record.id, "externalTenantId": tenant, "cases": results.successful.len()}),
        )
        .await?;
        let state = self.client_state(&mut tx, partner.id, link).await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(ClientCreated { state, cases: results, creditor: Some(new.record), onboarding_done: false })
    }

    /// Creates (or re-uses) a link request and queues the approval e-mail; returns the URL.
    async fn request_link(
        &self,
        tx: &mut Tx,
        partner: &PartnerRecord,
        client: &ClientRecord,
        tenant: &str,
        cases: &[serde_json::Value],
        return_url: Option<String>,
    ) -> Result<String, AppError> {
        let now = self.now();
        let cases_json = serde_json::Value::Array(cases.to_vec()).to_string();
        let existing = tx.link_requests_of_client(client.id).await?;
        for r in existing.iter().filter(|r| r.request.partner_id == partner.id) {
            match r.request.status_at(now) {
                LinkRequestStatus::Pending => {
                    if !cases.is_empty() {
                        tx.set_link_request_cases(r.request.id, &cases_json).await?;
                    }
                    return Ok(self.approval_url(&self.approval_token(r.request.id)));
                }
                LinkRequestStatus::Expired if r.request.status == LinkRequestStatus::Pending => {
                    self.expire_request(tx, r, partner).await?;
                }
                _ => {}
            }
        }
        let id = Uuid::new_v4();
        let token = self.approval_token(id);
        let request = LinkRequest {
            id,
            partner_id: partner.id,
            client_id: client.id,
            external_tenant_id: tenant.to_string(),
            created_at: now,
            expires_at: now + chrono::Duration::days(partner.approval_ttl_days),
            status: LinkRequestStatus::Pending,
            decided_at: None,
        };
        tx.insert_link_request(&LinkRequestRecord {
            request: request.clone(),
            token_hash: hash_secret(&token),
            cases_json,
            return_url,
            decided_by_user_id: None,
        })
        .await?;
        let url = self.approval_url(&token);
        wh::enqueue_event(
            tx,
            now,
            partner.id,
            wh::event::CLIENT_LINK_REQUESTED,
            wh::outbox::client_data(tenant, client.id, serde_json::json!({"linkRequestId": id, "expiresAt": request.expires_at})),
        )
        .await?;
        // To the onboarding user (else another user) who can sign in; with a personal
        // sign-in link that lands on the request. The support address alone gets the page.
        let users = tx.client_users(client.id).await?;
        let user = users.iter().find(|u| u.status != PersonStatus::Disabled);
        let to = user.map(|u| u.email.clone()).or(client.support_email.clone()).unwrap_or_default();
        let personal = match user {
            Some(u) => Some(self.personal_signin_link(tx, &u.email, &format!("/link-requests/{token}"), request.expires_at).await?),
            None => None,
        };
        let body = |personal: Option<&str>| {
            let mut b = format!(
                "{partner} asks to link to your account with {platform}.\n\n\
                 If you approve, {partner} may submit cases for you through its integration and earns a share of {platform}'s fee \
                 only on the cases it submits; cases you create yourself stay yours. Nothing is linked unless a user of your company approves.\n\n\
                 Approve or decline here (the request expires {expires}); you sign in with your e-mail address first:\n{url}\n",
                partner = partner.company_name,
                expires = request.expires_at.format("%Y-%m-%d %H:%M UTC"),
                platform = self.platform().name,
            );
            if let Some(p) = personal {
                b.push_str(&format!(
                    "\nYour personal link signs you in and opens the request (it works once, until the request expires):\n{p}\n\n\
                     Do not forward this e-mail: the personal link signs in as you.\n"
                ));
            }
            b
        };
        notify::enqueue_secret_related(
            tx,
            self,
            kind::LINK_APPROVAL_REQUEST,
            &to,
            &format!("{} asks to link your account", partner.company_name),
            body(personal.as_deref()),
            body(personal.as_ref().map(|_| self.signin_link("********")).as_deref()),
            Some(id.to_string()),
        )
        .await?;
        audit(
            tx,
            now,
            &actor::partner(partner.id),
            "link_request.created",
            "link_request",
            &id.to_string(),
            serde_json::json!({"clientId": client.id, "externalTenantId": tenant, "expiresAt": request.expires_at}),
        )
        .await?;
        Ok(url)
    }

    /// Stores the expiry of a request that passed `expires_at` and tells the partner.
    pub(crate) async fn expire_request(&self, tx: &mut Tx, r: &LinkRequestRecord, partner: &PartnerRecord) -> Result<(), AppError> {
        tx.set_link_request_status(r.request.id, LinkRequestStatus::Expired, Some(r.request.expires_at)).await?;
        wh::enqueue_event(
            tx,
            self.now(),
            partner.id,
            wh::event::CLIENT_LINK_EXPIRED,
            wh::outbox::client_data(
                &r.request.external_tenant_id,
                r.request.client_id,
                serde_json::json!({"linkRequestId": r.request.id, "expiredAt": r.request.expires_at}),
            ),
        )
        .await?;
        notify::enqueue(
            tx,
            self,
            kind::LINK_EXPIRED,
            &partner.contact_email,
            "A link request expired",
            format!("The link request for externalTenantId `{}` expired on {} without an answer. Call POST /clients again to send a fresh request.", r.request.external_tenant_id, r.request.expires_at.format("%Y-%m-%d %H:%M UTC")),
            Some(r.request.id.to_string()),
        )
        .await?;
        audit(
            tx,
            self.now(),
            crate::actor::SYSTEM,
            "link_request.expired",
            "link_request",
            &r.request.id.to_string(),
            serde_json::json!({"expiresAt": r.request.expires_at}),
        )
        .await?;
        Ok(())
    }

    /// Builds the partner's view of a client.
    pub(crate) async fn client_state(&self, tx: &mut Tx, partner_id: Uuid, link: Link) -> Result<ClientState, AppError> {
        self.client_states(tx, partner_id, vec![link]).await?.pop().ok_or(AppError::NotFound("client"))
    }

    /// Builds the partner's views of the clients of `links` (the partner's active links), in
    /// their order, with a fixed number of queries whatever their number: clients, users,
    /// visible case counts (the SQL of the visibility rule) and live earnings, each one
    /// query for the whole set.
    pub(crate) async fn client_states(&self, tx: &mut Tx, partner_id: Uuid, links: Vec<Link>) -> Result<Vec<ClientState>, AppError> {
        let client_ids: Vec<Uuid> = links.iter().map(|l| l.client_id).collect();
        let clients = tx.clients_by_ids(&client_ids).await?;
        let users = tx.client_users_of(&client_ids).await?;
        let counts = tx.partner_case_counts_by_client(partner_id, &client_ids).await?;
        // The partner's live earnings on each client, as its reporting rows show them: at
        // the locked rate, else the current one, each rounded, summed in SQL; a missing
        // rate leaves the sum partial.
        let rates = crate::fx::UsdRates::at(self.now()).load_all(tx).await?;
        let usd = tx.partner_client_earnings_usd(partner_id, &client_ids, &rates).await?;
        self.assemble_states(links, clients, users, &counts, &usd)
    }

    /// The partner's views of the clients of `links`, in their order, from what was read
    /// for them.
    fn assemble_states(
        &self,
        links: Vec<Link>,
        clients: HashMap<Uuid, ClientRecord>,
        mut users: HashMap<Uuid, Vec<ClientUserRecord>>,
        counts: &HashMap<Uuid, (i64, i64)>,
        usd: &HashMap<Uuid, ClientEarningsUsd>,
    ) -> Result<Vec<ClientState>, AppError> {
        let mut rows = Vec::with_capacity(links.len());
        for link in &links {
            let client = clients.get(&link.client_id).ok_or(AppError::NotFound("client"))?;
            rows.push(ClientListRow::of(link, client, &users.remove(&client.id).unwrap_or_default())?);
        }
        Ok(self.states_of(rows, counts, usd))
    }

    /// The partner's views of the clients the list shows, in their order, with their case
    /// counts and earnings.
    fn states_of(
        &self,
        rows: Vec<ClientListRow>,
        counts: &HashMap<Uuid, (i64, i64)>,
        usd: &HashMap<Uuid, ClientEarningsUsd>,
    ) -> Vec<ClientState> {
        rows.into_iter()
            .map(|client| {
                let (cases_total, cases_closed) = counts.get(&client.client_id).copied().unwrap_or((0, 0));
                let earned = usd.get(&client.client_id).copied().unwrap_or_default();
                ClientState {
                    onboarding_url: client.onboarding_completed_at.is_none().then(|| self.onboarding_url(client.link_id)),
                    cases_total,
                    cases_closed,
                    earnings_usd_minor: earned.usd_minor,
                    earnings_usd_partial: earned.usd_missing > 0,
                    client,
                }
            })
            .collect()
    }

    /// `GET /clients/{externalTenantId}`: only active links.
    pub async fn partner_client(&self, partner: &PartnerRecord, tenant: &str) -> Result<ClientState, AppError> {
        let mut tx = self.store.read().await?;
        let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client"))?;
        self.client_state(&mut tx, partner.id, link).await
    }

    /// `GET /clients`: one page of the partner's actively linked clients, filtered, with the
    /// number that match and a summary over all of them. Filters and the page are decided
    /// by the store; only what the page shows of its clients is read. A date-ordered page is
    /// one statement without a transaction (`Tx::partner_client_page_rows`: one row per
    /// client, its users and kept earnings aggregated into it); a page by name is two in one
    /// transaction (the names sorted in Rust, then the page's rows). When a
    /// currency's estimates are not built at today's rate (until the rates' job re-bases
    /// them), the page is read again part by part in one transaction, that currency's
    /// earnings aggregated from the rows.
    pub async fn partner_clients(&self, partner: &PartnerRecord, filter: &ClientFilter, page: PageReq) -> Result<ClientListing, AppError> {
        let order = match filter.sort.as_str() {
            "name:asc" => ClientOrder::NameAsc,
            "name:desc" => ClientOrder::NameDesc,
            "dateCreated:asc" => ClientOrder::LinkedAsc,
            _ => ClientOrder::LinkedDesc,
        };
        let store_filter = PartnerClientFilter {
            query: filter.query.clone(),
            external_tenant_id: filter.external_tenant_id.clone(),
            is_attributed: filter.is_attributed,
            onboarding_done: filter.onboarding_done,
            linked_from: filter.created_from,
            linked_to: filter.created_to,
        };
        let mut rates = crate::fx::UsdRates::at(self.now());
        let day = rates.needed(crate::fx::usd()).date;
        let rows = match order {
            ClientOrder::LinkedDesc | ClientOrder::LinkedAsc => {
                let mut tx = self.store.read_statement().await?;
                tx.partner_client_page_rows(partner.id, ClientPageOf::Filtered(&store_filter, order, page), &day).await?
            }
            ClientOrder::NameAsc | ClientOrder::NameDesc => {
                let mut tx = self.store.read().await?;
                let (link_ids, total) = tx.partner_client_page(partner.id, &store_filter, order, page).await?;
                tx.partner_client_page_rows(partner.id, ClientPageOf::Links(&link_ids, total), &day).await?
            }
        };
        let current = rates.from_loaded(&rows.rates);
        let (usd, stale) = rows.earnings.usd(&current)?;
        if !stale.is_empty() {
            return self.partner_clients_part_by_part(partner, &store_filter, order, page).await;
        }
        let summary = ClientsSummary {
            total_clients: rows.totals.clients,
            attributed_clients: rows.totals.attributed,
            onboarding_complete: rows.totals.onboarding_complete,
            onboarding_pending: rows.totals.clients - rows.totals.onboarding_complete,
            total_cases: rows.visible_cases,
        };
        let items = self.states_of(rows.items, &rows.case_counts, &usd);
        Ok(ClientListing { items, total: rows.total, summary })
    }

    /// [`App::partner_clients`] read part by part in one transaction (each part its own
    /// statement): on SQLite always, on PostgreSQL when the estimates are stale; also what
    /// the one-statement read is compared with.
    #[doc(hidden)]
    pub async fn partner_clients_part_by_part(
        &self,
        partner: &PartnerRecord,
        store_filter: &PartnerClientFilter,
        order: ClientOrder,
        page: PageReq,
    ) -> Result<ClientListing, AppError> {
        let mut tx = self.store.read().await?;
        let totals = tx.partner_client_totals(partner.id).await?;
        // Every visible case is a case of an actively linked client (SPEC §5).
        let total_cases = tx.partner_visible_case_count(partner.id).await?;
        let summary = ClientsSummary {
            total_clients: totals.clients,
            attributed_clients: totals.attributed,
            onboarding_complete: totals.onboarding_complete,
            onboarding_pending: totals.clients - totals.onboarding_complete,
            total_cases,
        };
        let (link_ids, total) = tx.partner_client_page(partner.id, store_filter, order, page).await?;
        let links = tx.links_by_ids(&link_ids).await?;
        let items = self.client_states(&mut tx, partner.id, links).await?;
        Ok(ClientListing { items, total, summary })
    }

    /// `POST /oauth/token`, with the partner key the request was authenticated by (the
    /// token dies when that key is revoked).
    pub async fn mint_client_token(&self, partner: &PartnerRecord, key_id: Uuid, tenant: &str) -> Result<(String, Uuid), AppError> {
        let mut tx = self.store.begin().await?;
        let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client"))?;
        let client = tx.client(link.client_id).await?.ok_or(AppError::NotFound("client"))?;
        if client.onboarding_completed_at.is_none() {
            return Err(ClientError::OnboardingIncomplete { onboarding_url: self.onboarding_url(link.id) }.into());
        }
        Ok((self.mint_token(&link, key_id, tenant)?, client.id))
    }

    /// `POST /clients/{externalTenantId}/withdraw`.
    pub async fn withdraw_client(&self, partner: &PartnerRecord, tenant: &str) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client"))?;
        let client = tx.client(link.client_id).await?.ok_or(AppError::NotFound("client"))?;
        if !link.is_attributed {
            return Err(ClientError::NotAttributed.into());
        }
        if client.onboarding_completed_at.is_some() {
            return Err(ClientError::OnboardingComplete.into());
        }
        let cases = tx.cases_of_client(client.id).await?;
        if cases.iter().any(|c| c.lifecycle != Lifecycle::PendingContractSigning) {
            return Err(ClientError::CasesStarted.into());
        }
        let now = self.now();
        let who = actor::partner(partner.id);
        tx.change_link_status(
            &link,
            &LinkEvent { at: now, status: LinkStatus::Archived, actor: who.clone(), reason: Some("withdrawn by partner".into()) },
        )
        .await?;
        wh::enqueue_event(
            &mut tx,
            now,
            partner.id,
            wh::event::LINK_ARCHIVED,
            wh::outbox::client_data(tenant, client.id, serde_json::json!({"linkId": link.id, "reason": "withdrawn by partner"})),
        )
        .await?;
        for mut c in cases.into_iter().filter(|c| c.lifecycle == Lifecycle::PendingContractSigning) {
            let old = c.lifecycle;
            c.lifecycle = Lifecycle::Closed;
            c.close_code = Some(close_code::CASE_NEVER_STARTED_INTERNAL.into());
            c.updated_at = now;
            tx.update_case_state(&c).await?;
            wh::outbox::case_changed(&mut tx, now, partner.id, tenant, old, &c).await?;
        }
        audit(&mut tx, now, &who, "client.withdrawn", "link", &link.id.to_string(), serde_json::json!({"externalTenantId": tenant}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Why a client cannot be reset (empty when it can). Test environment only.
    pub async fn client_delete_blockers(&self, partner: &PartnerRecord, tenant: &str) -> Result<Vec<String>, AppError> {
        self.require_test_env()?;
        let mut tx = self.store.read().await?;
        let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client"))?;
        self.blockers(&mut tx, &link).await
    }

    async fn blockers(&self, tx: &mut Tx, link: &Link) -> Result<Vec<String>, AppError> {
        let mut blockers = Vec::new();
        if tx.links_of_client(link.client_id).await?.iter().any(|l| l.partner_id != link.partner_id) {
            blockers.push("The client has been linked to another partner.".to_string());
        }
        if !link.is_attributed {
            blockers.push("The client was not created by you (non-attributed link).".to_string());
        }
        if tx.payout_count_of_client(link.client_id).await? > 0 {
            blockers.push("Payments were registered on the client's cases; the money ledger keeps them permanently.".to_string());
        }
        Ok(blockers)
    }

    /// `DELETE /clients/{externalTenantId}`: removes the client and its data (test only).
    pub async fn delete_client(&self, partner: &PartnerRecord, tenant: &str) -> Result<(), AppError> {
        self.require_test_env()?;
        let mut tx = self.store.begin().await?;
        let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client"))?;
        let blockers = self.blockers(&mut tx, &link).await?;
        if !blockers.is_empty() {
            return Err(ClientError::NotDeletable { blockers }.into());
        }
        tx.delete_client_cascade(link.client_id).await?;
        audit(
            &mut tx,
            self.now(),
            &actor::partner(partner.id),
            "client.deleted",
            "client",
            &link.client_id.to_string(),
            serde_json::json!({"externalTenantId": tenant}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Operator: a client that signed up directly (no partner). Returns its API key once.
    pub async fn create_direct_client(&self, input: DirectClientInput) -> Result<(ClientRecord, String), AppError> {
        let mut errors = Vec::new();
        let id = Uuid::new_v4();
        let now = self.now();
        let key = new_api_key("rsc");
        let record = ClientRecord {
            id,
            company_name: req_text(&mut errors, "companyName", &input.company_name, 200),
            country: req_text(&mut errors, "country", &input.country, 100),
            registration_number: opt_text(&mut errors, "registrationNumber", &input.registration_number, 100),
            support_email: Some(email(&mut errors, "supportEmail", &input.support_email)),
            details: serde_json::json!({}),
            api_key_hash: Some(hash_secret(&key)),
            onboarding_completed_at: input.onboarding_done.unwrap_or(false).then_some(now),
            sdca: None,
            created_at: now,
        };
        let users = parse_users(&mut errors, &input.users, id);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let mut tx = self.store.begin().await?;
        let mut emails: Vec<String> = users.iter().map(|u| u.email.clone()).collect();
        emails.extend(record.support_email.clone());
        if !tx.matching_clients(&emails, None).await?.is_empty() {
            return Err(ClientError::EmailInUse.into());
        }
        tx.insert_client(&record, &users).await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "client.created_direct",
            "client",
            &id.to_string(),
            serde_json::json!({"companyName": record.company_name}),
        )
        .await?;
        tx.commit().await?;
        Ok((record, key))
    }
}

/// Filters of `GET /clients`.
#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    /// Matches the company name or the external tenant id (case-insensitive substring,
    /// answered by the store's search index).
    pub query: Option<String>,
    pub external_tenant_id: Option<String>,
    pub is_attributed: Option<bool>,
    pub onboarding_done: Option<bool>,
    pub created_from: Option<refshare_core::Instant>,
    pub created_to: Option<refshare_core::Instant>,
    /// `dateCreated:desc` (default), `dateCreated:asc`, `name:asc`, `name:desc`.
    pub sort: String,
}

impl App {
    /// Operator: issues a (new) Customer API key for a client; the old one stops working.
    pub async fn issue_client_key(&self, client_id: Uuid) -> Result<String, AppError> {
        let mut tx = self.store.begin().await?;
        tx.client(client_id).await?.ok_or(AppError::NotFound("client"))?;
        let key = new_api_key("rsc");
        tx.set_client_api_key(client_id, &hash_secret(&key)).await?;
        audit(&mut tx, self.now(), actor::OPERATOR, "client.api_key_issued", "client", &client_id.to_string(), serde_json::json!({}))
            .await?;
        tx.commit().await?;
        Ok(key)
    }
}
