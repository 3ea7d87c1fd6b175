//! What a referral partner's signed-in staff change themselves from the Partner
//! Dashboard (issue 10): the team, the API keys, the branding of the hosted pages and the
//! webhooks.
//!
//! Each use case takes the session and the partner it acts for, and first checks the
//! permission ([`App::require_partner_permission`]: a user of another partner gets
//! `NotFound`, a `member` asking for an admin's action `PartnerRoleForbids`). It then runs
//! the operator's use case for the same change on behalf of the user
//! ([`actor::as_operator`] with [`actor::partner_user`]), so the rules, the e-mails and the
//! audit entries are the operator's, and the audit names the user who acted.

use refshare_core::people::PartnerPermission;
use refshare_store::{ApiKeyRecord, PageReq, PartnerRecord, PartnerUserAccount, PartnerUserRecord, WebhookSubscriptionRecord};
use uuid::Uuid;

use crate::partners::{Branding, IssuedKey, PartnerInput};
use crate::people::PartnerUserInput;
use crate::signin::Session;
use crate::webhooks::{CreateWebhookInput, DeliveryLogEntry, TestWebhookInput};
use crate::{actor, App, AppError, PeopleError};

/// The most team members a page lists.
pub const TEAM_PAGE_MAX: u32 = 200;

impl App {
    /// The permission check, and the audit actor of the user who passed it.
    fn staff(&self, session: &Session, partner_id: Uuid, p: PartnerPermission) -> Result<(PartnerUserAccount, String), AppError> {
        let user = self.require_partner_permission(session, partner_id, p)?;
        let who = actor::partner_user(user.user_id, session.email());
        Ok((user, who))
    }

    /// The partner's team (any user who may read), oldest first, with the total.
    pub async fn staff_team(&self, session: &Session, partner_id: Uuid) -> Result<(Vec<PartnerUserRecord>, i64), AppError> {
        self.staff(session, partner_id, PartnerPermission::Read)?;
        self.partner_users(partner_id, PageReq { page: 1, size: TEAM_PAGE_MAX }).await
    }

    /// An admin invites a teammate by e-mail with a role (the operator's invitation mail).
    pub async fn staff_invite(&self, session: &Session, partner_id: Uuid, input: PartnerUserInput) -> Result<PartnerUserRecord, AppError> {
        let (_, who) = self.staff(session, partner_id, PartnerPermission::ManageTeam)?;
        actor::as_operator(who, self.add_partner_user(partner_id, input)).await
    }

    /// An admin removes a teammate; nobody removes themselves (another admin does).
    pub async fn staff_remove(&self, session: &Session, partner_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
        let (me, who) = self.staff(session, partner_id, PartnerPermission::ManageTeam)?;
        if me.user_id == user_id {
            return Err(PeopleError::CannotRemoveSelf.into());
        }
        actor::as_operator(who, self.remove_partner_user(partner_id, user_id)).await
    }

    /// The partner's API keys (prefixes only), for any user who may read.
    pub async fn staff_keys(&self, session: &Session, partner_id: Uuid) -> Result<Vec<ApiKeyRecord>, AppError> {
        self.staff(session, partner_id, PartnerPermission::Read)?;
        self.partner_keys(partner_id).await
    }

    /// An admin issues a new key; the key is in the answer only (shown once).
    pub async fn staff_issue_key(&self, session: &Session, partner_id: Uuid) -> Result<IssuedKey, AppError> {
        let (_, who) = self.staff(session, partner_id, PartnerPermission::ManageKeys)?;
        actor::as_operator(who, self.rotate_partner_key(partner_id)).await
    }

    /// An admin revokes a key of the partner (another partner's key is not found).
    pub async fn staff_revoke_key(&self, session: &Session, partner_id: Uuid, key_id: Uuid) -> Result<(), AppError> {
        let (_, who) = self.staff(session, partner_id, PartnerPermission::ManageKeys)?;
        actor::as_operator(who, self.revoke_partner_key(partner_id, key_id)).await
    }

    /// An admin sets the branding of the partner's hosted pages (only the branding: the
    /// fee, name and contact stay the operator's).
    pub async fn staff_set_branding(&self, session: &Session, partner_id: Uuid, branding: Branding) -> Result<PartnerRecord, AppError> {
        let (_, who) = self.staff(session, partner_id, PartnerPermission::ManageSettings)?;
        let input = PartnerInput { branding: Some(branding), ..PartnerInput::default() };
        actor::as_operator(who, self.update_partner(partner_id, input)).await
    }

    /// The partner's webhook subscriptions, for any user who may read.
    pub async fn staff_webhooks(&self, session: &Session, partner: &PartnerRecord) -> Result<Vec<WebhookSubscriptionRecord>, AppError> {
        self.staff(session, partner.id, PartnerPermission::Read)?;
        self.webhooks(partner).await
    }

    /// An admin subscribes a URL to events; the signing secret is in the answer only.
    pub async fn staff_create_webhook(
        &self,
        session: &Session,
        partner: &PartnerRecord,
        input: CreateWebhookInput,
    ) -> Result<(WebhookSubscriptionRecord, String), AppError> {
        self.staff(session, partner.id, PartnerPermission::ManageWebhooks)?;
        self.create_webhook(partner, input).await
    }

    /// An admin deletes a subscription of the partner.
    pub async fn staff_delete_webhook(&self, session: &Session, partner: &PartnerRecord, id: Uuid) -> Result<(), AppError> {
        self.staff(session, partner.id, PartnerPermission::ManageWebhooks)?;
        self.delete_webhook(partner, id).await
    }

    /// An admin sends a test event (test environment only) through the real outbox.
    pub async fn staff_test_webhook(
        &self,
        session: &Session,
        partner: &PartnerRecord,
        input: TestWebhookInput,
    ) -> Result<(String, usize), AppError> {
        self.staff(session, partner.id, PartnerPermission::ManageWebhooks)?;
        self.trigger_test_webhook(partner, input).await
    }

    /// One subscription and a page of its delivery log, newest first, for any user who may
    /// read (another partner's subscription is not found).
    pub async fn staff_webhook_deliveries(
        &self,
        session: &Session,
        partner: &PartnerRecord,
        id: Uuid,
        page: PageReq,
    ) -> Result<(WebhookSubscriptionRecord, Vec<DeliveryLogEntry>, i64), AppError> {
        self.staff(session, partner.id, PartnerPermission::Read)?;
        let sub = self.webhook(partner, id).await?;
        let (log, total) = self.partner_webhook_deliveries(partner, id, page).await?;
        Ok((sub, log, total))
    }
}
