//! People (issue 8, first slice): the operator adds partner users (with an invitation
//! e-mail) and operators; the command line adds the first operator. Every e-mail is
//! unique per kind and tenant, compared case-insensitively: the store's unique indexes
//! decide, so two concurrent requests cannot both succeed, and the refusal is a typed
//! [`PeopleError`]. New people are `invited` until their first sign-in. The operator
//! changes a partner user's or an operator's role and disables or re-enables them
//! ([`PersonChange`]; see `PersonStatus::after_request` for the status rule).

use refshare_core::parse::{required_text, Email};
use refshare_core::people::{OperatorRole, PartnerRole, PersonStatus};
use refshare_store::{OperatorRecord, PageReq, PartnerUserRecord, StoreError};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::{FieldError, PeopleError};
use crate::notify::{self, kind};
use crate::{actor, audit, App, AppError};

/// `POST /admin-api/v1/partners/{id}/users`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerUserInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
}

/// `POST /admin-api/v1/operators`; `role` defaults to [`DEFAULT_API_OPERATOR_ROLE`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorInput {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<String>,
}

/// `PATCH /admin-api/v1/partners/{id}/users/{userId}` and
/// `PATCH /admin-api/v1/operators/{operatorId}`: what is given changes. `status` is
/// `disabled` or `active` (re-enable: back to `active` if they ever signed in, else
/// `invited`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonChange {
    pub role: Option<String>,
    pub status: Option<String>,
}

/// The role of an operator added through the API without one: the least privilege.
pub const DEFAULT_API_OPERATOR_ROLE: OperatorRole = OperatorRole::Viewer;
/// The role of an operator added at the command line without one: the first operator of
/// a fresh install must be able to add the others.
pub const DEFAULT_CLI_OPERATOR_ROLE: OperatorRole = OperatorRole::Admin;

fn email(errors: &mut Vec<FieldError>, v: &Option<String>) -> String {
    match v.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(FieldError { field: "email".into(), message: "is required".into() });
            String::new()
        }
        Some(s) => Email::parse(s).map(|e| e.to_string()).unwrap_or_else(|e| {
            errors.push(FieldError { field: "email".into(), message: e.to_string() });
            String::new()
        }),
    }
}

fn name(errors: &mut Vec<FieldError>, v: &Option<String>) -> String {
    required_text(v.as_deref().unwrap_or(""), 200).unwrap_or_else(|e| {
        errors.push(FieldError { field: "name".into(), message: e.to_string() });
        String::new()
    })
}

fn role<R>(
    errors: &mut Vec<FieldError>,
    v: &Option<String>,
    default: Option<R>,
    parse: fn(&str) -> Option<R>,
    choices: String,
) -> Option<R> {
    match v.as_deref() {
        None if default.is_some() => default,
        None => {
            errors.push(FieldError { field: "role".into(), message: format!("is required: {choices}") });
            None
        }
        Some(r) => parse(r).or_else(|| {
            errors.push(FieldError { field: "role".into(), message: format!("must be {choices}") });
            None
        }),
    }
}

/// The status a [`PersonChange`] asks for, checked: only `active` or `disabled`.
fn wanted_status(errors: &mut Vec<FieldError>, v: &Option<String>) -> Option<PersonStatus> {
    let s = v.as_deref()?;
    match PersonStatus::parse(s) {
        Some(st @ (PersonStatus::Active | PersonStatus::Disabled)) => Some(st),
        _ => {
            errors.push(FieldError { field: "status".into(), message: "must be `active` or `disabled`".into() });
            None
        }
    }
}

/// The new role and status of a person now `role` / `status`, or the input's errors.
fn apply_change<R: Copy>(
    change: &PersonChange,
    role: R,
    status: PersonStatus,
    ever_signed_in: bool,
    parse: fn(&str) -> Option<R>,
    choices: String,
) -> Result<(R, PersonStatus), AppError> {
    let mut errors = Vec::new();
    let new_role = match change.role.as_deref() {
        None => Some(role),
        Some(r) => parse(r).or_else(|| {
            errors.push(FieldError { field: "role".into(), message: format!("must be {choices}") });
            None
        }),
    };
    let new_status = match wanted_status(&mut errors, &change.status) {
        Some(wanted) => status.after_request(wanted, ever_signed_in),
        None => Some(status),
    };
    match (new_role, new_status) {
        (Some(r), Some(s)) if errors.is_empty() => Ok((r, s)),
        _ => Err(AppError::Validation(errors)),
    }
}

/// A uniqueness refusal of the store as the typed error; anything else as it is.
fn taken(e: StoreError, refusal: PeopleError) -> AppError {
    match e {
        StoreError::Conflict(_) => refusal.into(),
        other => other.into(),
    }
}

impl App {
    /// Adds a user to a partner (`invited`) and queues the invitation e-mail.
    pub async fn add_partner_user(&self, partner_id: Uuid, input: PartnerUserInput) -> Result<PartnerUserRecord, AppError> {
        let mut tx = self.store.begin().await?;
        let partner = tx.partner(partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let mut errors = Vec::new();
        let email = email(&mut errors, &input.email);
        let name = name(&mut errors, &input.name);
        let role = role(&mut errors, &input.role, None, PartnerRole::parse, PartnerRole::choices());
        let Some(role) = role.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        let now = self.now();
        let user = PartnerUserRecord {
            id: Uuid::new_v4(),
            partner_id,
            email,
            name,
            role,
            status: PersonStatus::Invited,
            last_sign_in_at: None,
            created_at: now,
        };
        tx.insert_partner_user(&user).await.map_err(|e| taken(e, PeopleError::PartnerUserExists { email: user.email.clone() }))?;
        notify::enqueue(
            &mut tx,
            self,
            kind::PARTNER_USER_INVITATION,
            &user.email,
            &format!("You were added to {} on refshare", partner.company_name),
            format!(
                "Hello {},\n\nYou were added to the team of {} on refshare, as {}.\n\nYou will sign in at {} with this e-mail address ({}); no password is needed.\n",
                user.name,
                partner.company_name,
                user.role,
                self.login_url(),
                user.email
            ),
            Some(user.id.to_string()),
        )
        .await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "partner.user_added",
            "partner",
            &partner_id.to_string(),
            serde_json::json!({"userId": user.id, "email": user.email, "role": user.role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(user)
    }

    /// One page of a partner's users (404 for an unknown partner).
    pub async fn partner_users(&self, partner_id: Uuid, page: PageReq) -> Result<(Vec<PartnerUserRecord>, i64), AppError> {
        let mut tx = self.store.read().await?;
        tx.partner(partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        Ok(tx.partner_users_page(partner_id, page).await?)
    }

    /// Removes a partner's user; another partner's user is not found.
    pub async fn remove_partner_user(&self, partner_id: Uuid, user_id: Uuid) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        let user = tx.partner_user(partner_id, user_id).await?.ok_or(AppError::NotFound("user"))?;
        if !tx.delete_partner_user(partner_id, user_id).await? {
            return Err(AppError::NotFound("user"));
        }
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "partner.user_removed",
            "partner",
            &partner_id.to_string(),
            serde_json::json!({"userId": user.id, "email": user.email, "role": user.role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /admin-api/v1/operators`: name required, role defaults to `viewer`.
    pub async fn add_operator(&self, input: OperatorInput) -> Result<OperatorRecord, AppError> {
        let mut errors = Vec::new();
        let email = email(&mut errors, &input.email);
        let name = name(&mut errors, &input.name);
        let role = role(&mut errors, &input.role, Some(DEFAULT_API_OPERATOR_ROLE), OperatorRole::parse, OperatorRole::choices());
        let Some(role) = role.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        self.insert_operator(email, name, role, actor::OPERATOR).await
    }

    /// `refshare operator add EMAIL [--name N] [--role R]`: the name defaults to the part
    /// of the address before `@`, the role to `admin`.
    pub async fn add_operator_from_cli(
        &self,
        email_arg: &str,
        name_arg: Option<&str>,
        role_arg: Option<&str>,
    ) -> Result<OperatorRecord, AppError> {
        let mut errors = Vec::new();
        let email = email(&mut errors, &Some(email_arg.to_string()));
        let local = email.rsplit_once('@').map(|(l, _)| l.to_string()).unwrap_or_default();
        let name = match name_arg {
            Some(n) => name(&mut errors, &Some(n.to_string())),
            None => local,
        };
        let role =
            role(&mut errors, &role_arg.map(str::to_string), Some(DEFAULT_CLI_OPERATOR_ROLE), OperatorRole::parse, OperatorRole::choices());
        let Some(role) = role.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        self.insert_operator(email, name, role, actor::CLI).await
    }

    async fn insert_operator(&self, email: String, name: String, role: OperatorRole, by: &str) -> Result<OperatorRecord, AppError> {
        let now = self.now();
        let op =
            OperatorRecord { id: Uuid::new_v4(), email, name, role, status: PersonStatus::Invited, last_sign_in_at: None, created_at: now };
        let mut tx = self.store.begin().await?;
        tx.insert_operator(&op).await.map_err(|e| taken(e, PeopleError::OperatorExists { email: op.email.clone() }))?;
        audit(
            &mut tx,
            now,
            by,
            "operator.created",
            "operator",
            &op.id.to_string(),
            serde_json::json!({"email": op.email, "name": op.name, "role": op.role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(op)
    }

    /// One page of operators.
    pub async fn operators(&self, page: PageReq) -> Result<(Vec<OperatorRecord>, i64), AppError> {
        Ok(self.store.read().await?.operators_page(page).await?)
    }

    /// Changes a partner's user's role and/or status; another partner's user is not
    /// found. Audited as `partner.user_changed` on the partner when something changed.
    pub async fn change_partner_user(&self, partner_id: Uuid, user_id: Uuid, change: PersonChange) -> Result<PartnerUserRecord, AppError> {
        let mut tx = self.store.begin().await?;
        tx.partner(partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let user = tx.partner_user(partner_id, user_id).await?.ok_or(AppError::NotFound("user"))?;
        let (role, status) =
            apply_change(&change, user.role, user.status, user.last_sign_in_at.is_some(), PartnerRole::parse, PartnerRole::choices())?;
        if (role, status) == (user.role, user.status) {
            return Ok(user);
        }
        if !tx.update_partner_user(partner_id, user_id, role, status).await? {
            return Err(AppError::NotFound("user"));
        }
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "partner.user_changed",
            "partner",
            &partner_id.to_string(),
            serde_json::json!({
                "userId": user.id, "email": user.email,
                "from": {"role": user.role.as_str(), "status": user.status.as_str()},
                "to": {"role": role.as_str(), "status": status.as_str()},
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(PartnerUserRecord { role, status, ..user })
    }

    /// Changes an operator's role and/or status. Audited as `operator.changed` when
    /// something changed.
    pub async fn change_operator(&self, operator_id: Uuid, change: PersonChange) -> Result<OperatorRecord, AppError> {
        let mut tx = self.store.begin().await?;
        let op = tx.operator(operator_id).await?.ok_or(AppError::NotFound("operator"))?;
        let (role, status) =
            apply_change(&change, op.role, op.status, op.last_sign_in_at.is_some(), OperatorRole::parse, OperatorRole::choices())?;
        if (role, status) == (op.role, op.status) {
            return Ok(op);
        }
        if !tx.update_operator(operator_id, role, status).await? {
            return Err(AppError::NotFound("operator"));
        }
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "operator.changed",
            "operator",
            &operator_id.to_string(),
            serde_json::json!({
                "email": op.email,
                "from": {"role": op.role.as_str(), "status": op.status.as_str()},
                "to": {"role": role.as_str(), "status": status.as_str()},
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(OperatorRecord { role, status, ..op })
    }
}
