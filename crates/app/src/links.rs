//! Link use cases: the hosted approval and onboarding pages, operator archive /
//! unarchive / delete, and the expiry of link requests by the clock.
//!
//! Consent belongs to the client (SPEC §11): approving, declining and signing take the
//! browser's [`Session`] and go ahead only when its address is a user of the request's or
//! link's client ([`LinkError::NotClientUser`] otherwise, nothing changed). Holding the
//! URL only shows the page and lets a visitor ask for a sign-in mail, which goes to that
//! client's users alone ([`App::request_approval_signin`], [`App::request_onboarding_signin`]).

use refshare_core::case::CaseSource;
use refshare_core::link::{Link, LinkEvent, LinkRequestStatus, LinkStatus};
use refshare_store::{ClientRecord, LinkRequestRecord, PartnerRecord, Savepoint, SdcaSignature};
use uuid::Uuid;

use crate::auth::hash_secret;
use crate::cases::{parse_case, Origin};
use crate::error::LinkError;
use crate::notify::{self, kind};
use crate::signin::{client_user_for_email, Session, SigninScope};
use crate::webhooks as wh;
use crate::{actor, audit, App, AppError};

/// What the approval page shows.
pub struct ApprovalPage {
    pub request: LinkRequestRecord,
    pub partner: PartnerRecord,
    pub client: ClientRecord,
    /// The status now; only `Pending` shows a form.
    pub status: LinkRequestStatus,
}

/// What the onboarding page shows.
pub struct OnboardingPage {
    pub link: Link,
    pub partner: PartnerRecord,
    pub client: ClientRecord,
    pub return_url: Option<String>,
}

/// What a decision did, for the confirmation page.
pub struct Decided {
    pub page: ApprovalPage,
    /// Stored cases created on approval, and those that could not be.
    pub replayed_cases: usize,
    pub failed_cases: usize,
}

/// The client's decision on a link request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Decline,
}

/// Who signed, from where (the signer's user and verification come from the session).
pub struct Signing {
    pub signer_name: String,
    pub accepted: bool,
    pub ip: String,
    pub user_agent: String,
}

impl App {
    pub async fn approval_page(&self, token: &str) -> Result<ApprovalPage, AppError> {
        let mut tx = self.store.read().await?;
        let request = tx.link_request_by_token_hash(&hash_secret(token)).await?.ok_or(AppError::NotFound("link request"))?;
        let partner = tx.partner(request.request.partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let client = tx.client(request.request.client_id).await?.ok_or(AppError::NotFound("client"))?;
        let status = request.request.status_at(self.now());
        Ok(ApprovalPage { request, partner, client, status })
    }

    /// The path of a request's approval page (where its sign-ins return to).
    fn approval_path(token: &str) -> String {
        format!("/link-requests/{token}")
    }

    /// The approval page's sign-in form: a mail only if `email` is a user of the request's
    /// client, back to the page afterwards. Refused like the page when the request is no
    /// longer pending.
    pub async fn request_approval_signin(&self, token: &str, email: &str, ip: &str) -> Result<ApprovalPage, AppError> {
        let page = self.approval_page(token).await?;
        match page.status {
            LinkRequestStatus::Pending => {}
            LinkRequestStatus::Expired => return Err(LinkError::RequestExpired.into()),
            LinkRequestStatus::Approved => return Err(LinkError::RequestApproved.into()),
            LinkRequestStatus::Declined => return Err(LinkError::RequestDeclined.into()),
        }
        let scope = SigninScope { client_id: page.client.id, return_to: Self::approval_path(token) };
        self.request_signin_scoped(email, ip, Some(&scope)).await?;
        Ok(page)
    }

    /// Approves or declines a link request (SPEC §4.5) as the session's user of the
    /// request's client. Returns the page data afterwards and what approval created.
    pub async fn decide_link_request(&self, token: &str, decision: Decision, session: &Session) -> Result<Decided, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let r = tx.link_request_by_token_hash(&hash_secret(token)).await?.ok_or(AppError::NotFound("link request"))?;
        let partner = tx.partner(r.request.partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let client = tx.client(r.request.client_id).await?.ok_or(AppError::NotFound("client"))?;
        let Some(user) = client_user_for_email(&mut tx, &session.record.email_key, client.id).await? else {
            return Err(LinkError::NotClientUser { company_name: client.company_name }.into());
        };
        match r.request.status_at(now) {
            LinkRequestStatus::Pending => {}
            LinkRequestStatus::Expired => {
                if r.request.status == LinkRequestStatus::Pending {
                    self.expire_request(&mut tx, &r, &partner).await?;
                    tx.commit().await?;
                    self.wake_mailer();
                }
                return Err(LinkError::RequestExpired.into());
            }
            LinkRequestStatus::Approved => return Err(LinkError::RequestApproved.into()),
            LinkRequestStatus::Declined => return Err(LinkError::RequestDeclined.into()),
        }
        let who = actor::client_user(user.user_id);
        let verified_by = session.record.verified_by.clone();
        let (mut replayed, mut failed) = (0, Vec::new());
        match decision {
            Decision::Decline => {
                tx.set_link_request_status(r.request.id, LinkRequestStatus::Declined, Some(now)).await?;
                tx.set_link_request_decider(r.request.id, user.user_id).await?;
                wh::enqueue_event(
                    &mut tx,
                    now,
                    partner.id,
                    wh::event::CLIENT_LINK_DECLINED,
                    wh::outbox::client_data(&r.request.external_tenant_id, client.id, serde_json::json!({"linkRequestId": r.request.id})),
                )
                .await?;
                notify::enqueue(
                    &mut tx,
                    self,
                    kind::LINK_DECLINED,
                    &partner.contact_email,
                    "A client declined your link request",
                    format!("The client declined the link request for externalTenantId `{}`.", r.request.external_tenant_id),
                    Some(r.request.id.to_string()),
                )
                .await?;
                audit(
                    &mut tx,
                    now,
                    &who,
                    "link_request.declined",
                    "link_request",
                    &r.request.id.to_string(),
                    serde_json::json!({"clientId": client.id, "verifiedBy": verified_by}),
                )
                .await?;
            }
            Decision::Approve => {
                let links = tx.links_of_client(client.id).await?;
                if links.iter().any(|l| l.current_status() == LinkStatus::Active) {
                    return Err(LinkError::ClientAlreadyLinked.into());
                }
                if tx.active_link_by_tenant(partner.id, &r.request.external_tenant_id).await?.is_some() {
                    return Err(LinkError::TenantIdTakenForRequest.into());
                }
                tx.set_link_request_status(r.request.id, LinkRequestStatus::Approved, Some(now)).await?;
                tx.set_link_request_decider(r.request.id, user.user_id).await?;
                let link = Link {
                    id: Uuid::new_v4(),
                    partner_id: partner.id,
                    client_id: client.id,
                    external_tenant_id: r.request.external_tenant_id.clone(),
                    is_attributed: false,
                    referral_fee_bps: partner.referral_fee_bps,
                    linked_at: now,
                    history: vec![LinkEvent { at: now, status: LinkStatus::Active, actor: who.clone(), reason: None }],
                };
                tx.insert_link(&link, &who, r.return_url.as_deref()).await?;
                wh::enqueue_event(
                    &mut tx,
                    now,
                    partner.id,
                    wh::event::CLIENT_LINKED,
                    wh::outbox::client_data(
                        &link.external_tenant_id,
                        client.id,
                        serde_json::json!({"linkId": link.id, "linkRequestId": r.request.id, "isAttributedClient": false}),
                    ),
                )
                .await?;
                // Replay the cases that came with the request as the partner's own cases.
                let cases: Vec<serde_json::Value> = serde_json::from_str(&r.cases_json).unwrap_or_default();
                let origin = Origin { source: CaseSource::PartnerApi, partner: Some(partner.id) };
                let mut failed_json = Vec::new();
                for (i, c) in cases.iter().enumerate() {
                    // Each case is replayed under a savepoint: a case the database refuses
                    // (on PostgreSQL, any failed statement aborts the whole transaction)
                    // is undone alone, and the approval and the other cases go on.
                    tx.savepoint(Savepoint::ReplayCase).await?;
                    let outcome = match parse_case(c, &format!("cases[{i}].")) {
                        Ok(nc) => self.insert_case(&mut tx, &client, &nc, origin, true).await.map(|_| ()),
                        Err(e) => Err(AppError::Validation(e)),
                    };
                    match outcome {
                        Ok(()) => {
                            tx.release_savepoint(Savepoint::ReplayCase).await?;
                            replayed += 1;
                        }
                        Err(e) => {
                            // If even this fails, the connection is gone: the approval fails.
                            tx.rollback_to_savepoint(Savepoint::ReplayCase).await?;
                            let e = match e {
                                AppError::Internal(cause) => {
                                    tracing::warn!(link_request = %r.request.id, case = i, cause = %cause.chain(), "a stored case could not be replayed");
                                    AppError::Internal("the case could not be stored".into())
                                }
                                e => e,
                            };
                            failed_json.push(serde_json::json!({
                                "index": i,
                                "creditorReference": c.get("creditorReference").and_then(|v| v.as_str()),
                                "message": e.to_string(),
                            }));
                            failed.push(format!("case {i}: {e}"));
                        }
                    }
                }
                if !failed_json.is_empty() {
                    wh::enqueue_event(
                        &mut tx,
                        now,
                        partner.id,
                        wh::event::CASES_REPLAY_FAILED,
                        wh::outbox::client_data(
                            &link.external_tenant_id,
                            client.id,
                            serde_json::json!({"linkId": link.id, "failedCases": failed_json}),
                        ),
                    )
                    .await?;
                }
                notify::enqueue(
                    &mut tx,
                    self,
                    kind::LINK_APPROVED,
                    &partner.contact_email,
                    "A client approved your link request",
                    format!(
                        "The client approved the link for externalTenantId `{}`. {} submitted case(s) were created{}.",
                        link.external_tenant_id,
                        replayed,
                        if failed.is_empty() {
                            String::new()
                        } else {
                            format!("; {} could not be replayed: {}", failed.len(), failed.join("; "))
                        }
                    ),
                    Some(link.id.to_string()),
                )
                .await?;
                audit(
                    &mut tx,
                    now,
                    &who,
                    "link_request.approved",
                    "link",
                    &link.id.to_string(),
                    serde_json::json!({
                        "linkRequestId": r.request.id, "clientId": client.id, "verifiedBy": verified_by,
                        "replayedCases": replayed, "failedCases": failed,
                    }),
                )
                .await?;
            }
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(Decided { page: self.approval_page(token).await?, replayed_cases: replayed, failed_cases: failed.len() })
    }

    pub async fn onboarding_page(&self, link_id: Uuid) -> Result<OnboardingPage, AppError> {
        let mut tx = self.store.read().await?;
        let link = tx.link(link_id).await?.ok_or(AppError::NotFound("onboarding link"))?;
        if link.current_status() != LinkStatus::Active {
            return Err(LinkError::OnboardingLinkInvalid.into());
        }
        let partner = tx.partner(link.partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let client = tx.client(link.client_id).await?.ok_or(AppError::NotFound("client"))?;
        let return_url = tx.link_return_url(link.id).await?;
        Ok(OnboardingPage { link, partner, client, return_url })
    }

    /// The onboarding page's sign-in form: a mail only if `email` is a user of the link's
    /// client, back to the page afterwards. Nothing is sent once onboarding is complete.
    pub async fn request_onboarding_signin(&self, link_id: Uuid, email: &str, ip: &str) -> Result<OnboardingPage, AppError> {
        let page = self.onboarding_page(link_id).await?;
        if page.client.onboarding_completed_at.is_none() {
            let scope = SigninScope { client_id: page.client.id, return_to: format!("/onboarding/{link_id}") };
            self.request_signin_scoped(email, ip, Some(&scope)).await?;
        }
        Ok(page)
    }

    /// Signs the SDCA as the session's user of the link's client: completes onboarding
    /// and activates the client's pending cases. The signature records that user and how
    /// the session's address was proven.
    pub async fn sign_onboarding(&self, link_id: Uuid, s: Signing, session: &Session) -> Result<OnboardingPage, AppError> {
        let page = self.onboarding_page(link_id).await?;
        let user = {
            let mut tx = self.store.begin().await?;
            client_user_for_email(&mut tx, &session.record.email_key, page.client.id).await?
        };
        let Some(user) = user else {
            return Err(LinkError::NotClientUser { company_name: page.client.company_name }.into());
        };
        let mut errors = Vec::new();
        let name = s.signer_name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(crate::FieldError { field: "signer_name".into(), message: "Type your full name to sign.".into() });
        }
        if !s.accepted {
            errors.push(crate::FieldError { field: "accept".into(), message: "You must accept the agreement.".into() });
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if page.client.onboarding_completed_at.is_some() {
            return Ok(page);
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let sig = SdcaSignature {
            signer_name: name.to_string(),
            signed_at: now,
            ip: s.ip.chars().take(100).collect(),
            user_agent: s.user_agent.chars().take(500).collect(),
            version: self.agreement().version().into(),
            signer_user_id: Some(user.user_id),
            verified_by: Some(session.record.verified_by.clone()),
        };
        if tx.complete_onboarding(page.client.id, &sig).await? {
            wh::enqueue_event(
                &mut tx,
                now,
                page.link.partner_id,
                wh::event::CLIENT_CONTRACT_SIGNED,
                wh::outbox::client_data(
                    &page.link.external_tenant_id,
                    page.client.id,
                    serde_json::json!({"linkId": link_id, "signedAt": now, "sdcaVersion": sig.version}),
                ),
            )
            .await?;
            self.activate_pending_cases(&mut tx, page.client.id).await?;
            audit(
                &mut tx,
                now,
                &actor::client_user(user.user_id),
                "client.onboarding_completed",
                "client",
                &page.client.id.to_string(),
                serde_json::json!({
                    "signer": sig.signer_name, "signerUserId": user.user_id, "verifiedBy": sig.verified_by,
                    "ip": sig.ip, "sdcaVersion": sig.version, "linkId": link_id,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        self.onboarding_page(link_id).await
    }

    /// Operator: archive, unarchive or delete a link, with a reason (SPEC §2).
    pub async fn change_link(&self, link_id: Uuid, to: LinkStatus, reason: Option<String>) -> Result<Link, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let link = tx.link(link_id).await?.ok_or(AppError::NotFound("link"))?;
        let from = link.current_status();
        if !from.can_become(to) {
            return Err(LinkError::IllegalTransition { from, to }.into());
        }
        if to == LinkStatus::Active {
            let others = tx.links_of_client(link.client_id).await?;
            if others.iter().any(|l| l.id != link.id && l.current_status() == LinkStatus::Active) {
                return Err(LinkError::ClientLinkedElsewhere.into());
            }
            if tx.active_link_by_tenant(link.partner_id, &link.external_tenant_id).await?.is_some() {
                return Err(LinkError::ExternalTenantIdInUse.into());
            }
        }
        let event = LinkEvent { at: now, status: to, actor: actor::OPERATOR.into(), reason: reason.clone() };
        tx.change_link_status(&link, &event).await?;
        if to == LinkStatus::Archived {
            wh::enqueue_event(
                &mut tx,
                now,
                link.partner_id,
                wh::event::LINK_ARCHIVED,
                wh::outbox::client_data(&link.external_tenant_id, link.client_id, serde_json::json!({"linkId": link.id, "reason": reason})),
            )
            .await?;
        }
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            &format!("link.{}", to.as_str()),
            "link",
            &link_id.to_string(),
            serde_json::json!({"from": from.as_str(), "to": to.as_str(), "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        self.store.begin().await?.link(link_id).await?.ok_or(AppError::NotFound("link"))
    }

    pub async fn link(&self, id: Uuid) -> Result<Link, AppError> {
        self.store.read().await?.link(id).await?.ok_or(AppError::NotFound("link"))
    }

    /// Operator: links filtered by partner and/or client.
    pub async fn links(&self, partner: Option<Uuid>, client: Option<Uuid>) -> Result<Vec<Link>, AppError> {
        let mut tx = self.store.read().await?;
        let mut links = match (partner, client) {
            (_, Some(c)) => tx.links_of_client(c).await?,
            (Some(p), None) => tx.links_of_partner(p).await?,
            (None, None) => {
                let mut all = Vec::new();
                for p in tx.partners().await? {
                    all.extend(tx.links_of_partner(p.id).await?);
                }
                all
            }
        };
        if let Some(p) = partner {
            links.retain(|l| l.partner_id == p);
        }
        Ok(links)
    }

    /// Stores the expiry of every request past `expiresAt` and notifies its partner.
    /// Expiry holds without this job (it is derived from the clock); the job records it
    /// and sends the e-mail.
    pub async fn expire_link_requests(&self) -> Result<usize, AppError> {
        let mut tx = self.store.begin().await?;
        let overdue = tx.overdue_link_requests(self.now()).await?;
        for r in &overdue {
            if let Some(partner) = tx.partner(r.request.partner_id).await? {
                self.expire_request(&mut tx, r, &partner).await?;
            }
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(overdue.len())
    }
}
