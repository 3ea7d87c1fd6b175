//! Bulk writers for `refshare seed`: the same rows the one-row `insert_*` methods write
//! (same columns, same derived columns such as `search_key` and `email_key`), but many
//! rows per statement. A statement carries as many rows as fit in [`crate::bulk::MAX_PARAMS`] bind
//! parameters (below SQLite's 32,766 and PostgreSQL's 65,535), so every full chunk of a
//! table has the same SQL text and is prepared once per connection (sqlx's statement
//! cache). The caller decides the transaction: the seed commits every few thousand rows.

use refshare_core::link::Link;
use uuid::Uuid;

use crate::bulk::{ot, t, V};
use crate::{
    ms, ApiKeyRecord, Backend, CaseRecord, ClientRecord, ClientUserRecord, CollectionPartnerRecord, DecisionRecord, EarningReadModel,
    EarningRecord, LinkRequestRecord, PartnerRecord, PaymentRecord, PayoutRecord, Result, Tx,
};

/// The definitions of the indexes a bulk load dropped ([`Tx::seed_drop_indexes`]), in
/// the order they are built again.
#[derive(Debug, Default)]
#[must_use = "the dropped indexes are built again by `Tx::seed_build_indexes`"]
pub struct DeferredIndexes {
    create: Vec<String>,
}

impl DeferredIndexes {
    /// How many indexes were dropped.
    pub fn len(&self) -> usize {
        self.create.len()
    }

    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
    }

    /// Their definitions, as the database gave them.
    pub fn definitions(&self) -> &[String] {
        &self.create
    }
}

/// A derived column (`crate::bulk`): the client of the case whose id is bound.
const CLIENT_OF_CASE: &str = "(SELECT c.client_id FROM cases c WHERE c.id = {})";

impl Tx {
    /// Whether the database holds no partner, client or case yet (a seed refuses others).
    pub async fn seed_target_is_empty(&mut self) -> Result<bool> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM partners) + (SELECT COUNT(*) FROM clients) + (SELECT COUNT(*) FROM cases) \
             + (SELECT COUNT(*) FROM collection_partners) AS n",
        )
        .fetch_one(self.conn())
        .await?;
        Ok(crate::get::<i64>(&row, "n")? == 0)
    }

    /// Gives the connection a large page cache for bulk writing (SQLite; nothing on
    /// PostgreSQL). It lasts as long as the connection.
    pub async fn seed_tune(&mut self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            self.simple("PRAGMA cache_size = -524288").await?;
        }
        Ok(())
    }

    /// Drops the secondary indexes of `tables` that no constraint needs (not unique, not a
    /// primary key's) and returns how to build them again ([`Tx::seed_build_indexes`]).
    /// A bulk load into a large table then appends rows instead of updating every index
    /// at a scattered place per row, and each index is built once, sorted. The seed's
    /// writes between the two look rows up by primary key only.
    pub async fn seed_drop_indexes(&mut self, tables: &[&str]) -> Result<DeferredIndexes> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name AS name, sql AS def FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL"
            }
            Backend::Postgres => {
                "SELECT CAST(i.indexname AS TEXT) AS name, i.indexdef AS def FROM pg_indexes i WHERE i.schemaname = current_schema() \
                 AND i.tablename = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
                 WHERE k.conindid = to_regclass(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname)))"
            }
        };
        let mut deferred = DeferredIndexes::default();
        for table in tables {
            let rows = sqlx::query(sql).bind(*table).fetch_all(self.conn()).await?;
            for row in rows {
                let (name, def): (String, String) = (crate::get(&row, "name")?, crate::get(&row, "def")?);
                if def.trim_start().to_ascii_uppercase().starts_with("CREATE UNIQUE") {
                    continue;
                }
                self.simple(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\""))).await?;
                deferred.create.push(def);
            }
        }
        Ok(deferred)
    }

    /// Builds the indexes [`Tx::seed_drop_indexes`] dropped, from their own definitions.
    pub async fn seed_build_indexes(&mut self, deferred: DeferredIndexes) -> Result<()> {
        for def in deferred.create {
            self.simple(&def).await?;
        }
        Ok(())
    }

    pub async fn bulk_partners(&mut self, v: &[PartnerRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|p| {
                vec![
                    t(p.id),
                    t(&p.company_name),
                    t(&p.contact_email),
                    V::I(p.referral_fee_bps.0 as i64),
                    V::I(p.approval_ttl_days),
                    t(p.invoicing_trigger_mode.as_str()),
                    t(p.branding.to_string()),
                    V::I(ms(p.created_at)),
                ]
            })
            .collect();
        let cols = [
            "id",
            "company_name",
            "contact_email",
            "referral_fee_bps",
            "approval_ttl_days",
            "invoicing_trigger_mode",
            "branding_json",
            "created_at",
        ];
        self.bulk_insert("partners", &cols, rows).await
    }

    pub async fn bulk_api_keys(&mut self, v: &[ApiKeyRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|k| vec![t(k.id), t(k.partner_id), t(&k.key_hash), t(&k.key_prefix), V::I(ms(k.created_at)), V::OI(k.revoked_at.map(ms))])
            .collect();
        self.bulk_insert("partner_api_keys", &["id", "partner_id", "key_hash", "key_prefix", "created_at", "revoked_at"], rows).await
    }

    /// Collection partners and the countries they cover.
    pub async fn bulk_collection_partners(&mut self, v: &[CollectionPartnerRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|cp| {
                vec![
                    t(cp.id),
                    t(&cp.name),
                    V::I(cp.success_fee_bps.0 as i64),
                    V::I(cp.platform_share_bps.0 as i64),
                    V::I(ms(cp.created_at)),
                ]
            })
            .collect();
        self.bulk_insert("collection_partners", &["id", "name", "success_fee_bps", "platform_share_bps", "created_at"], rows).await?;
        let countries = v.iter().flat_map(|cp| cp.countries.iter().map(move |c| vec![t(cp.id), t(c)])).collect();
        self.bulk_insert("collection_partner_countries", &["collection_partner_id", "country"], countries).await
    }

    pub async fn bulk_clients(&mut self, v: &[ClientRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|c| {
                let sdca = c.sdca.as_ref();
                vec![
                    t(c.id),
                    t(&c.company_name),
                    t(&c.country),
                    ot(c.registration_number.as_ref()),
                    ot(c.support_email.as_ref()),
                    t(c.details.to_string()),
                    ot(c.api_key_hash.as_ref()),
                    V::OI(c.onboarding_completed_at.map(ms)),
                    V::I(ms(c.created_at)),
                    ot(c.support_email.as_deref().map(str::to_lowercase)),
                    ot(sdca.map(|s| &s.signer_name)),
                    ot(sdca.map(|s| &s.ip)),
                    ot(sdca.map(|s| &s.user_agent)),
                    ot(sdca.map(|s| &s.version)),
                    ot(sdca.and_then(|s| s.signer_user_id)),
                    ot(sdca.and_then(|s| s.verified_by.as_ref())),
                ]
            })
            .collect();
        let cols = [
            "id",
            "company_name",
            "country",
            "registration_number",
            "support_email",
            "details_json",
            "api_key_hash",
            "onboarding_completed_at",
            "created_at",
            "support_email_key",
            "sdca_signer_name",
            "sdca_signer_ip",
            "sdca_signer_user_agent",
            "sdca_version",
            "sdca_signer_user_id",
            "sdca_verified_by",
        ];
        self.bulk_insert("clients", &cols, rows).await
    }

    pub async fn bulk_client_users(&mut self, v: &[ClientUserRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|u| {
                vec![
                    t(u.id),
                    t(u.client_id),
                    t(&u.name),
                    t(&u.email),
                    ot(u.phone.as_ref()),
                    V::I(u.is_onboarding_user as i64),
                    t(u.email.to_lowercase()),
                    t(u.status.as_str()),
                    V::OI(u.last_sign_in_at.map(ms)),
                ]
            })
            .collect();
        let cols = ["id", "client_id", "name", "email", "phone", "is_onboarding_user", "email_key", "status", "last_sign_in_at"];
        self.bulk_insert("client_users", &cols, rows).await
    }

    /// Links with their whole history: the row carries the last status, and one
    /// `link_events` row per history entry (the first is `active` at `linked_at`).
    pub async fn bulk_links(&mut self, v: &[Link]) -> Result<()> {
        let rows = v
            .iter()
            .map(|l| {
                vec![
                    t(l.id),
                    t(l.partner_id),
                    t(l.client_id),
                    t(&l.external_tenant_id),
                    V::I(l.is_attributed as i64),
                    V::I(l.referral_fee_bps.0 as i64),
                    V::I(ms(l.linked_at)),
                    t(l.current_status().as_str()),
                    V::OT(None),
                ]
            })
            .collect();
        let cols = [
            "id",
            "partner_id",
            "client_id",
            "external_tenant_id",
            "is_attributed",
            "referral_fee_bps",
            "linked_at",
            "status",
            "return_url",
        ];
        self.bulk_insert("links", &cols, rows).await?;
        let events = v
            .iter()
            .flat_map(|l| {
                l.history.iter().enumerate().map(move |(seq, e)| {
                    vec![
                        t(Uuid::new_v4()),
                        t(l.id),
                        V::I(seq as i64),
                        V::I(ms(e.at)),
                        t(e.status.as_str()),
                        t(&e.actor),
                        ot(e.reason.as_ref()),
                    ]
                })
            })
            .collect();
        self.bulk_insert("link_events", &["id", "link_id", "seq", "at", "status", "actor", "reason"], events).await
    }

    pub async fn bulk_link_requests(&mut self, v: &[LinkRequestRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|r| {
                let q = &r.request;
                vec![
                    t(q.id),
                    t(q.partner_id),
                    t(q.client_id),
                    t(&q.external_tenant_id),
                    t(&r.token_hash),
                    V::I(ms(q.created_at)),
                    V::I(ms(q.expires_at)),
                    t(q.status.as_str()),
                    V::OI(q.decided_at.map(ms)),
                    t(&r.cases_json),
                    ot(r.return_url.as_ref()),
                    ot(r.decided_by_user_id),
                ]
            })
            .collect();
        let cols = [
            "id",
            "partner_id",
            "client_id",
            "external_tenant_id",
            "token_hash",
            "created_at",
            "expires_at",
            "status",
            "decided_at",
            "cases_json",
            "return_url",
            "decided_by_user_id",
        ];
        self.bulk_insert("link_requests", &cols, rows).await
    }

    /// Cases, with the search key `insert_case` derives.
    pub async fn bulk_cases(&mut self, v: &[CaseRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|c| {
                vec![
                    t(c.id),
                    t(&c.reference),
                    t(c.client_id),
                    t(&c.creditor_reference),
                    t(c.source.as_str()),
                    ot(c.creating_partner_id),
                    V::I(ms(c.created_at)),
                    V::I(ms(c.updated_at)),
                    t(c.lifecycle.as_str()),
                    ot(c.close_code.as_ref()),
                    V::I(c.amount_minor),
                    t(c.currency.code()),
                    t(&c.debtor_type),
                    t(&c.debtor_name),
                    t(&c.debtor_country),
                    t(c.details.to_string()),
                    ot(c.assignment.map(|a| a.collection_partner_id)),
                    V::OI(c.assignment.map(|a| a.success_fee_bps.0 as i64)),
                    V::OI(c.assignment.map(|a| a.platform_share_bps.0 as i64)),
                    t(crate::cases::search_key(c)),
                ]
            })
            .collect();
        let cols = [
            "id",
            "reference",
            "client_id",
            "creditor_reference",
            "source",
            "creating_partner_id",
            "created_at",
            "updated_at",
            "lifecycle",
            "close_code",
            "amount_minor",
            "currency",
            "debtor_type",
            "debtor_name",
            "debtor_country",
            "details_json",
            "collection_partner_id",
            "success_fee_bps",
            "platform_share_bps",
            "search_key",
        ];
        self.bulk_insert("cases", &cols, rows).await
    }

    pub async fn bulk_payments(&mut self, v: &[PaymentRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|p| {
                vec![
                    t(p.id),
                    t(p.case_id),
                    V::I(p.amount_minor),
                    t(p.currency.code()),
                    V::I(ms(p.paid_at)),
                    ot(p.external_id.as_ref()),
                    V::I(ms(p.created_at)),
                    V::I(p.is_overpayment as i64),
                ]
            })
            .collect();
        let cols = ["id", "case_id", "amount_minor", "currency", "paid_at", "external_id", "created_at", "is_overpayment"];
        self.bulk_insert("payments", &cols, rows).await
    }

    pub async fn bulk_payouts(&mut self, v: &[PayoutRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|p| {
                vec![
                    t(p.id),
                    t(p.payment_id),
                    t(p.case_id),
                    ot(p.collection_partner_id),
                    V::I(p.success_fee_minor),
                    V::I(p.platform_fee_minor),
                    t(p.currency.code()),
                    V::I(ms(p.created_at)),
                    t(p.commission_status.as_str()),
                    V::OI(p.commission_paid_at.map(ms)),
                    V::OI(p.fx_usd_per_unit_e8),
                    ot(p.fx_rate_date.as_ref()),
                    ot(p.cp_invoice_id),
                    t(p.case_id),
                ]
            })
            .collect();
        let cols = [
            "id",
            "payment_id",
            "case_id",
            "collection_partner_id",
            "success_fee_minor",
            "platform_fee_minor",
            "currency",
            "created_at",
            "commission_status",
            "commission_paid_at",
            "fx_usd_per_unit_e8",
            "fx_rate_date",
            "cp_invoice_id",
        ];
        // The case's client (migration 0038) in the same statement, as `insert_payout` writes it.
        self.bulk_insert_derived("payouts", &cols, &[("client_id", CLIENT_OF_CASE)], rows).await
    }

    pub async fn bulk_decisions(&mut self, v: &[DecisionRecord]) -> Result<()> {
        let rows = v
            .iter()
            .map(|d| {
                vec![
                    t(d.id),
                    t(d.payout_id),
                    ot(d.supersedes_id),
                    ot(d.partner_id),
                    ot(d.link_id),
                    ot(d.link_request_id),
                    ot(d.link_status.map(|s| s.as_str())),
                    t(d.reason.as_str()),
                    V::I(d.attributed as i64),
                    t(d.case_source.as_str()),
                    V::OI(d.referral_fee_bps.map(|b| b.0 as i64)),
                    V::I(d.referral_fee_minor),
                    t(d.currency.code()),
                    t(&d.engine_version),
                    V::I(ms(d.decided_at)),
                ]
            })
            .collect();
        let cols = [
            "id",
            "payout_id",
            "supersedes_id",
            "partner_id",
            "link_id",
            "link_request_id",
            "link_status",
            "reason",
            "attributed",
            "case_source",
            "referral_fee_bps",
            "referral_fee_minor",
            "currency",
            "engine_version",
            "decided_at",
        ];
        self.bulk_insert("attribution_decisions", &cols, rows).await
    }

    /// The rows of [`Tx::bulk_earnings`] (earnings with their read model, migration 0019)
    /// without their totals' deltas.
    pub(crate) async fn bulk_earning_rows(&mut self, v: &[(EarningRecord, EarningReadModel)]) -> Result<()> {
        let rows = v
            .iter()
            .map(|(e, m)| {
                vec![
                    t(e.id),
                    t(e.payout_id),
                    ot(e.decision_id),
                    t(e.partner_id),
                    t(e.case_id),
                    V::I(e.amount_minor),
                    t(e.currency.code()),
                    t(e.referral_invoice_status.as_str()),
                    V::I(ms(e.created_at)),
                    t(e.kind.as_str()),
                    ot(e.corrects_id),
                    ot(e.note.as_ref()),
                    ot(e.partner_invoice_id),
                    V::OI(e.voided_at.map(ms)),
                    ot(e.void_reason.as_ref()),
                    ot(e.dispute_id),
                    ot(e.status_before_dispute.map(|s| s.as_str())),
                    ot(m.stage.map(|s| s.as_str())),
                    V::I(ms(m.paid_at)),
                    V::OI(m.fx_usd_per_unit_e8),
                    t(e.payout_id),
                    t(e.case_id),
                ]
            })
            .collect();
        let cols = [
            "id",
            "payout_id",
            "decision_id",
            "partner_id",
            "case_id",
            "amount_minor",
            "currency",
            "referral_invoice_status",
            "created_at",
            "kind",
            "corrects_id",
            "note",
            "partner_invoice_id",
            "voided_at",
            "void_reason",
            "dispute_id",
            "status_before_dispute",
            "stage",
            "paid_at",
            "fx_usd_per_unit_e8",
        ];
        // The payout's platform fee (read model, migration 0025) and the case's client
        // (migration 0032) in the same statement, as `insert_earning` writes them.
        let derived =
            [("platform_fee_minor", "(SELECT p.platform_fee_minor FROM payouts p WHERE p.id = {})"), ("client_id", CLIENT_OF_CASE)];
        self.bulk_insert_derived("earnings", &cols, &derived, rows).await
    }

    /// Writes earnings with their read models, as [`Tx::insert_earning_with_model`] writes
    /// one (the same derived columns), many per statement; the earnings totals (migration
    /// 0022) follow as deltas read back from the rows.
    pub async fn bulk_earnings(&mut self, v: &[(EarningRecord, EarningReadModel)]) -> Result<()> {
        self.bulk_earning_rows(v).await?;
        let ids: Vec<Uuid> = v.iter().map(|(e, _)| e.id).collect();
        self.totals_after(&ids).await
    }

    /// `(currency, YYYY-MM-DD, USD per unit × 1e8)` rows for days without a rate yet.
    pub async fn bulk_fx_rates(&mut self, v: &[(String, String, i64)]) -> Result<()> {
        let rows = v.iter().map(|(c, d, r)| vec![t(c), t(d), V::I(*r)]).collect();
        self.bulk_insert("fx_rates", &["currency", "rate_date", "usd_per_unit_e8"], rows).await
    }

    /// Moves the case-reference counter to at least `value` (the last number handed out),
    /// so that cases created afterwards continue after the seeded ones.
    pub async fn raise_case_counter(&mut self, value: i64) -> Result<()> {
        sqlx::query("UPDATE counters SET value = $1 WHERE name = 'case_reference' AND value < $1").bind(value).execute(self.conn()).await?;
        Ok(())
    }
}
