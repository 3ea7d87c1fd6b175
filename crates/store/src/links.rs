//! Links with their append-only status history, and link requests.

use refshare_core::link::{Link, LinkEvent, LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_core::money::Bps;
use refshare_core::Instant;
use uuid::Uuid;

use std::collections::HashMap;

use crate::in_list::{sorted_unique, texts};
use crate::union_read::{names, Part};
use crate::{at, get, ms, opt_at, uuid, Cols, LinkRequestRecord, Result, StoreError, Tx};

pub(crate) const LINK_COLS: &str =
    "id, partner_id, client_id, external_tenant_id, is_attributed, referral_fee_bps, linked_at, status, return_url";

pub(crate) const REQUEST_COLS: &str = "id, partner_id, client_id, external_tenant_id, token_hash, created_at, expires_at, status, decided_at, cases_json, return_url, decided_by_user_id";

pub(crate) fn request_from<R: Cols + ?Sized>(r: &R) -> Result<LinkRequestRecord> {
    let s: String = r.value("status")?;
    Ok(LinkRequestRecord {
        request: LinkRequest {
            id: uuid(&r.value::<String>("id")?)?,
            partner_id: uuid(&r.value::<String>("partner_id")?)?,
            client_id: uuid(&r.value::<String>("client_id")?)?,
            external_tenant_id: r.value("external_tenant_id")?,
            created_at: at(r.value("created_at")?),
            expires_at: at(r.value("expires_at")?),
            status: LinkRequestStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("request status {s}")))?,
            decided_at: opt_at(r.value("decided_at")?),
        },
        token_hash: r.value("token_hash")?,
        cases_json: r.value("cases_json")?,
        return_url: r.value("return_url")?,
        decided_by_user_id: r.value::<Option<String>>("decided_by_user_id")?.as_deref().map(uuid).transpose()?,
    })
}

/// A link's event as [`event_from`] reads it, with its order within the link (`seq`).
pub(crate) const EVENT_COLS: &str = "link_id, at, status, actor, reason, seq";

pub(crate) fn event_from<R: Cols + ?Sized>(e: &R) -> Result<LinkEvent> {
    let s: String = e.value("status")?;
    Ok(LinkEvent {
        at: at(e.value("at")?),
        status: LinkStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("link status {s}")))?,
        actor: e.value("actor")?,
        reason: e.value("reason")?,
    })
}

/// The links of the clients whose id `clients` matches (`= (…)` or `IN (…)`), as a part of
/// a [`UnionRead`](crate::union_read::UnionRead), in the order of [`Tx::links_of_clients`].
pub(crate) fn links_part(clients: &str) -> Part {
    Part::new(format!("SELECT {LINK_COLS} FROM links WHERE client_id {clients}"), names(LINK_COLS)).ordered("b.linked_at", "b.id")
}

/// The histories of those links ([`links_part`]), each in its order.
pub(crate) fn events_part(clients: &str) -> Part {
    Part::new(
        format!("SELECT {EVENT_COLS} FROM link_events WHERE link_id IN (SELECT l.id FROM links l WHERE l.client_id {clients})"),
        names(EVENT_COLS),
    )
    .ordered("b.seq", "b.link_id")
}

/// The link requests of those clients, in the order of [`Tx::link_requests_of_clients`].
pub(crate) fn requests_part(clients: &str) -> Part {
    Part::new(format!("SELECT {REQUEST_COLS} FROM link_requests WHERE client_id {clients}"), names(REQUEST_COLS))
        .ordered("b.created_at", "b.id")
}

pub(crate) fn link_from<R: Cols + ?Sized>(row: &R) -> Result<Link> {
    Ok(Link {
        id: uuid(&row.value::<String>("id")?)?,
        partner_id: uuid(&row.value::<String>("partner_id")?)?,
        client_id: uuid(&row.value::<String>("client_id")?)?,
        external_tenant_id: row.value("external_tenant_id")?,
        is_attributed: row.value::<i64>("is_attributed")? != 0,
        referral_fee_bps: Bps(row.value::<i64>("referral_fee_bps")? as u32),
        linked_at: at(row.value("linked_at")?),
        history: Vec::new(),
    })
}

impl Tx {
    /// Fills the status history of `links`: one query per `IN_CHUNK` links, not one per link.
    pub(crate) async fn with_histories(&mut self, mut links: Vec<Link>) -> Result<Vec<Link>> {
        let ids: Vec<String> = links.iter().map(|l| l.id.to_string()).collect();
        let mut events: std::collections::HashMap<Uuid, Vec<LinkEvent>> = std::collections::HashMap::new();
        let sql = format!("SELECT {EVENT_COLS} FROM link_events WHERE link_id IN ({{in}}) ORDER BY link_id, seq");
        for e in self.rows_in_one(&sql, None, &ids).await? {
            events.entry(uuid(&get::<String>(&e, "link_id")?)?).or_default().push(event_from(&e)?);
        }
        for l in &mut links {
            l.history = events.remove(&l.id).unwrap_or_default();
        }
        Ok(links)
    }

    async fn links_where(&mut self, clause: &str, arg1: String, arg2: Option<String>) -> Result<Vec<Link>> {
        let sql = format!("SELECT {LINK_COLS} FROM links WHERE {clause} ORDER BY linked_at, id");
        let mut q = sqlx::query(&sql).bind(arg1);
        if let Some(a) = arg2 {
            q = q.bind(a);
        }
        let rows = q.fetch_all(self.conn()).await?;
        let links = rows.iter().map(link_from).collect::<Result<Vec<_>>>()?;
        self.with_histories(links).await
    }

    /// The links with these ids (with their histories), in the order of `ids`; unknown ids
    /// are left out. A fixed number of queries whatever the number of links.
    pub async fn links_by_ids(&mut self, ids: &[Uuid]) -> Result<Vec<Link>> {
        let mut found = std::collections::HashMap::new();
        for r in self.rows_in(&format!("SELECT {LINK_COLS} FROM links WHERE id IN ({{in}})"), None, &texts(ids)).await? {
            let l = link_from(&r)?;
            found.insert(l.id, l);
        }
        let links = ids.iter().filter_map(|id| found.remove(id)).collect();
        self.with_histories(links).await
    }

    /// The partner's active links to these clients (at most one per client), with their
    /// histories.
    pub async fn active_links_to_clients(&mut self, partner_id: Uuid, client_ids: &[Uuid]) -> Result<Vec<Link>> {
        let mut links = Vec::new();
        let sql = format!(
            "SELECT {LINK_COLS} FROM links WHERE partner_id = $1 AND status = 'active' AND client_id IN ({{in}}) ORDER BY linked_at, id"
        );
        for r in self.rows_in(&sql, Some(&partner_id.to_string()), &texts(client_ids)).await? {
            links.push(link_from(&r)?);
        }
        self.with_histories(links).await
    }

    /// Inserts a link and its first history event (`active` at `linked_at`).
    pub async fn insert_link(&mut self, l: &Link, actor: &str, return_url: Option<&str>) -> Result<()> {
        sqlx::query(&format!("INSERT INTO links ({LINK_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8)"))
            .bind(l.id.to_string())
            .bind(l.partner_id.to_string())
            .bind(l.client_id.to_string())
            .bind(&l.external_tenant_id)
            .bind(l.is_attributed as i64)
            .bind(l.referral_fee_bps.0 as i64)
            .bind(ms(l.linked_at))
            .bind(return_url.map(str::to_string))
            .execute(self.conn())
            .await?;
        self.append_link_event(l.id, 0, &LinkEvent { at: l.linked_at, status: LinkStatus::Active, actor: actor.into(), reason: None }).await
    }

    async fn append_link_event(&mut self, link_id: Uuid, seq: i64, e: &LinkEvent) -> Result<()> {
        sqlx::query("INSERT INTO link_events (id, link_id, seq, at, status, actor, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(Uuid::new_v4().to_string())
            .bind(link_id.to_string())
            .bind(seq)
            .bind(ms(e.at))
            .bind(e.status.as_str())
            .bind(&e.actor)
            .bind(e.reason.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Appends a status change to a link's history and updates its current status.
    pub async fn change_link_status(&mut self, link: &Link, e: &LinkEvent) -> Result<()> {
        sqlx::query("UPDATE links SET status = $2 WHERE id = $1")
            .bind(link.id.to_string())
            .bind(e.status.as_str())
            .execute(self.conn())
            .await?;
        self.append_link_event(link.id, link.history.len() as i64, e).await
    }

    pub async fn link(&mut self, id: Uuid) -> Result<Option<Link>> {
        Ok(self.links_where("id = $1", id.to_string(), None).await?.into_iter().next())
    }

    /// The return URL given when the link was created, for the onboarding page.
    pub async fn link_return_url(&mut self, id: Uuid) -> Result<Option<String>> {
        let row = sqlx::query("SELECT return_url FROM links WHERE id = $1").bind(id.to_string()).fetch_optional(self.conn()).await?;
        Ok(match row {
            Some(r) => get(&r, "return_url")?,
            None => None,
        })
    }

    pub async fn links_of_client(&mut self, client_id: Uuid) -> Result<Vec<Link>> {
        self.links_where("client_id = $1", client_id.to_string(), None).await
    }

    /// The links of each of these clients (every partner's, with their histories), each
    /// client's in the order of [`Tx::links_of_client`]: a fixed number of queries per
    /// chunk of clients, whatever their number.
    pub async fn links_of_clients(&mut self, client_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Link>>> {
        let sql = format!("SELECT {LINK_COLS} FROM links WHERE client_id IN ({{in}}) ORDER BY linked_at, id");
        let mut links = Vec::new();
        for r in self.rows_in_one(&sql, None, &sorted_unique(client_ids.iter().copied())).await? {
            links.push(link_from(&r)?);
        }
        let mut out: HashMap<Uuid, Vec<Link>> = HashMap::new();
        for l in self.with_histories(links).await? {
            out.entry(l.client_id).or_default().push(l);
        }
        Ok(out)
    }

    pub async fn links_of_partner(&mut self, partner_id: Uuid) -> Result<Vec<Link>> {
        self.links_where("partner_id = $1", partner_id.to_string(), None).await
    }

    /// The partner's active link with this external tenant id (case-sensitive).
    pub async fn active_link_by_tenant(&mut self, partner_id: Uuid, external_tenant_id: &str) -> Result<Option<Link>> {
        Ok(self
            .links_where(
                "partner_id = $1 AND external_tenant_id = $2 AND status = 'active'",
                partner_id.to_string(),
                Some(external_tenant_id.to_string()),
            )
            .await?
            .into_iter()
            .next())
    }

    /// Any link of the partner with this external tenant id, newest first.
    pub async fn links_by_tenant(&mut self, partner_id: Uuid, external_tenant_id: &str) -> Result<Vec<Link>> {
        let mut v = self
            .links_where("partner_id = $1 AND external_tenant_id = $2", partner_id.to_string(), Some(external_tenant_id.to_string()))
            .await?;
        v.reverse();
        Ok(v)
    }

    pub async fn insert_link_request(&mut self, r: &LinkRequestRecord) -> Result<()> {
        let q = &r.request;
        sqlx::query(
            "INSERT INTO link_requests (id, partner_id, client_id, external_tenant_id, token_hash, created_at, expires_at, status, decided_at, cases_json, return_url)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(q.id.to_string())
        .bind(q.partner_id.to_string())
        .bind(q.client_id.to_string())
        .bind(&q.external_tenant_id)
        .bind(&r.token_hash)
        .bind(ms(q.created_at))
        .bind(ms(q.expires_at))
        .bind(q.status.as_str())
        .bind(q.decided_at.map(ms))
        .bind(&r.cases_json)
        .bind(r.return_url.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a decision (approve / decline / expire) on a request.
    pub async fn set_link_request_status(&mut self, id: Uuid, status: LinkRequestStatus, decided_at: Option<Instant>) -> Result<()> {
        sqlx::query("UPDATE link_requests SET status = $2, decided_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(status.as_str())
            .bind(decided_at.map(ms))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records the client user who approved or declined a request.
    pub async fn set_link_request_decider(&mut self, id: Uuid, user_id: Uuid) -> Result<()> {
        sqlx::query("UPDATE link_requests SET decided_by_user_id = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Replaces the cases carried by a pending request (re-used request, new cases).
    pub async fn set_link_request_cases(&mut self, id: Uuid, cases_json: &str) -> Result<()> {
        sqlx::query("UPDATE link_requests SET cases_json = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(cases_json)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn requests_where(&mut self, clause: &str, arg: String) -> Result<Vec<LinkRequestRecord>> {
        let rows = sqlx::query(&format!("SELECT {REQUEST_COLS} FROM link_requests WHERE {clause} ORDER BY created_at, id"))
            .bind(arg)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(request_from).collect()
    }

    pub async fn link_requests_of_client(&mut self, client_id: Uuid) -> Result<Vec<LinkRequestRecord>> {
        self.requests_where("client_id = $1", client_id.to_string()).await
    }

    /// The link requests of each of these clients (every partner's), each client's oldest
    /// first, as [`Tx::link_requests_of_client`] gives them: one query per chunk of clients.
    pub async fn link_requests_of_clients(&mut self, client_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<LinkRequestRecord>>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM link_requests WHERE client_id IN ({{in}}) ORDER BY created_at, id");
        let mut out: HashMap<Uuid, Vec<LinkRequestRecord>> = HashMap::new();
        for r in self.rows_in_one(&sql, None, &sorted_unique(client_ids.iter().copied())).await? {
            let r = request_from(&r)?;
            out.entry(r.request.client_id).or_default().push(r);
        }
        Ok(out)
    }

    pub async fn link_requests_of_partner(&mut self, partner_id: Uuid) -> Result<Vec<LinkRequestRecord>> {
        self.requests_where("partner_id = $1", partner_id.to_string()).await
    }

    pub async fn link_request_by_token_hash(&mut self, token_hash: &str) -> Result<Option<LinkRequestRecord>> {
        Ok(self.requests_where("token_hash = $1", token_hash.to_string()).await?.into_iter().next())
    }

    /// Requests stored as pending whose `expires_at` has passed.
    pub async fn overdue_link_requests(&mut self, now: Instant) -> Result<Vec<LinkRequestRecord>> {
        let all = self.requests_where("status = $1", "pending".into()).await?;
        Ok(all.into_iter().filter(|r| r.request.expires_at <= now).collect())
    }
}
