//! The `Idempotency-Key` flow shared by customer `POST /cases` and operator payments
//! (API.md): the same key and request replay the stored response (status and body); the
//! same key with another request is a 422 `IdempotencyConflict`. Successes and the
//! refusals the caller names are stored; other errors are not (a 400, 404 or 409 may
//! succeed on retry).
//!
//! Everything runs in one transaction that first takes the key's lock, so a retry racing
//! the original waits for it and then replays what it stored. The attempt runs under a
//! savepoint: a refusal undoes whatever the attempt wrote (a drawn case number, say) and
//! its response is stored in the same transaction.

use refshare_core::Instant;
use refshare_store::{IdempotencyRecord, Savepoint, Tx};

use crate::cases::Rendered;
use crate::{App, AppError};

/// One request under an `Idempotency-Key`.
pub(crate) struct Keyed<'a> {
    /// Whose keys these are (keys of different scopes never meet).
    pub scope: &'a str,
    pub key: &'a str,
    /// Identifies the request: the same key with another hash is a conflict.
    pub request_hash: String,
}

impl App {
    /// Replays the stored response for `req`'s key, or runs `attempt` and stores its
    /// rendered response: on success, or on an error `is_refusal` accepts (the attempt's
    /// writes undone). Any other error is returned and nothing is stored.
    pub(crate) async fn run_idempotent<T>(
        &self,
        req: Keyed<'_>,
        attempt: impl AsyncFnOnce(&mut Tx) -> Result<T, AppError>,
        is_refusal: fn(&AppError) -> bool,
        render: impl Fn(Result<&T, &AppError>) -> Rendered,
    ) -> Result<Rendered, AppError> {
        let mut tx = self.store.begin().await?;
        tx.lock_idempotency_key(req.scope, req.key).await?;
        let (rendered, stored) = self.idempotent_in(&mut tx, req, attempt, is_refusal, render).await?;
        if stored {
            tx.commit().await?;
        }
        Ok(rendered)
    }

    /// The flow of [`App::run_idempotent`] inside `tx`, which already holds the key's lock
    /// (a group of payments takes all its keys' locks first, `payments_batch`). Returns the
    /// response and whether it was stored now (`false`: replayed, nothing written). On an
    /// error nothing of the attempt is undone: the caller rolls `tx` (or its own
    /// savepoint) back.
    pub(crate) async fn idempotent_in<T>(
        &self,
        tx: &mut Tx,
        req: Keyed<'_>,
        attempt: impl AsyncFnOnce(&mut Tx) -> Result<T, AppError>,
        is_refusal: fn(&AppError) -> bool,
        render: impl Fn(Result<&T, &AppError>) -> Rendered,
    ) -> Result<(Rendered, bool), AppError> {
        let now: Instant = self.now();
        if let Some(stored) = tx.idempotency(req.scope, req.key).await? {
            if stored.request_hash == req.request_hash {
                return Ok(((stored.status_code, stored.body), false));
            }
            return Err(AppError::IdempotencyConflict);
        }
        tx.savepoint(Savepoint::IdempotentAttempt).await?;
        let rendered = match attempt(tx).await {
            Ok(out) => {
                tx.release_savepoint(Savepoint::IdempotentAttempt).await?;
                render(Ok(&out))
            }
            // A refusal is the request's answer: nothing it wrote stays, it is replayed.
            Err(e) if is_refusal(&e) => {
                tx.rollback_to_savepoint(Savepoint::IdempotentAttempt).await?;
                render(Err(&e))
            }
            Err(e) => return Err(e),
        };
        let rec = IdempotencyRecord { request_hash: req.request_hash, status_code: rendered.0, body: rendered.1.clone() };
        tx.save_idempotency(req.scope, req.key, &rec, now).await?;
        Ok((rendered, true))
    }
}
