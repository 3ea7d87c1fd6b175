//! Group commit for single payments (issue 9): `POST /cases/{case}/payments` requests that
//! arrive together share one transaction and one commit.
//!
//! Each App has one payment writer, a task started with the first payment (and again if
//! its runtime ended). A request queues its payment and waits for its answer. The writer
//! takes what is queued — the first payment and whatever came with it, up to
//! `AppConfig::payment_group_max` ([`MAX_GROUP_PAYMENTS`] by default,
//! `REFSHARE_PAYMENT_GROUP_MAX`), without waiting for more — and finds their cases with one
//! read whatever their number (a case not found is a 404, a body that does not fit its
//! case a 400, each answered at once and not booked: a request costs no statement of its
//! own). It books the rest in one transaction through the batch's machinery
//! (`payments_batch`): every key's and case's lock first in one order, then each payment
//! with the single payment's booking. Refusals are rare here, so the group is first booked
//! without a savepoint per payment ([`App::book_all_or_none`]: two statements fewer a
//! payment) and committed if every payment was booked. At the first refusal that
//! transaction is rolled back and the group booked again in a new one, each payment under
//! its own savepoint ([`App::book_together`]), so the refused payment is undone alone and
//! gets its own error while its neighbours go on.
//! While the writer commits, the next requests queue, so the group grows with the load and
//! one request alone is booked at once.
//!
//! A request is answered only after the commit that holds its payment. If the group's
//! transaction fails before its `COMMIT` (a broken connection, a deadlock while taking the
//! locks on PostgreSQL, a row refused when the rows held back for the commit are written:
//! `Tx::write_pending`), nothing of it was committed and each payment is booked again
//! alone, in its own transaction. If the commit itself fails, its outcome is unknown:
//! every payment of the group answers that error (500), as a single transaction whose
//! commit failed always did; a retry with the same `externalId` or `Idempotency-Key` is
//! safe either way. A request abandoned while queued is still booked (a retry replays it).
//!
//! Group commit is per process: on PostgreSQL several servers each group their own
//! requests, and their groups cannot deadlock on one another because every group (and
//! every batch chunk) takes its locks in the same order before writing. For the same
//! reason one process may run several writers side by side
//! (`AppConfig::payment_writers`, `REFSHARE_PAYMENT_WRITERS`): they take groups from the
//! one queue in turn, so while one writer waits for its commit the next books the
//! payments that came meanwhile. By default PostgreSQL runs [`PG_PAYMENT_WRITERS`] and
//! SQLite one, as SQLite has a single writer connection anyway.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot, OwnedMutexGuard};

use crate::payments::{check_payment_on, Checked, KeyedPayment, KeyedRequest, PaymentInput};
use crate::payments_batch::{BatchResult, Booked, Booking};
use crate::{actor, App, AppError};

/// Most payments the writer books in one transaction, by default
/// (`AppConfig::payment_group_max`).
pub const MAX_GROUP_PAYMENTS: usize = 64;

/// The bounds of `AppConfig::payment_group_max` (`REFSHARE_PAYMENT_GROUP_MAX`).
pub const GROUP_MAX_RANGE: std::ops::RangeInclusive<usize> = 1..=1_000;

/// Payment writers side by side on PostgreSQL when `AppConfig::payment_writers` is unset.
pub const PG_PAYMENT_WRITERS: usize = 4;

/// The bounds of `AppConfig::payment_writers` (`REFSHARE_PAYMENT_WRITERS`).
pub const WRITERS_RANGE: std::ops::RangeInclusive<usize> = 1..=64;

/// Payments that may wait for the writer; a request beyond waits to be queued.
const QUEUE_CAPACITY: usize = 4 * 1024;

/// An App's payment writer: the queue's sending end (with the task behind it, started on
/// first use) and what it shares with the task.
#[derive(Default)]
pub(crate) struct PaymentWriter {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    shared: Arc<Shared>,
}

/// What the writer task and the requests share.
#[derive(Default)]
struct Shared {
    /// Held by [`App::hold_payment_groups`]; the writer takes it before it forms a group.
    gate: Arc<tokio::sync::Mutex<()>>,
    /// Payments queued and not yet taken into a group.
    waiting: AtomicUsize,
    groups: AtomicU64,
    payments: AtomicU64,
    largest: AtomicU64,
    retried_alone: AtomicU64,
    rebooked: AtomicU64,
}

/// What the payment writer did since the process started (`/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentGroupStats {
    /// Group transactions (one per group, even of one payment).
    pub groups: u64,
    /// Payments booked in them (refused ones included).
    pub payments: u64,
    /// The largest group.
    pub largest: u64,
    /// Groups whose transaction failed before its commit, booked again one payment at a time.
    pub retried_alone: u64,
    /// Groups with a refused payment, booked again with a savepoint per payment.
    pub rebooked: u64,
}

/// While held, the payment writer forms no group: payments queue ([`App::hold_payment_groups`]).
pub struct PaymentGroupHold(#[allow(dead_code)] OwnedMutexGuard<()>);

/// One queued payment and where its answer goes.
struct Job {
    /// The App of the request (the writer holds none of its own while idle, so dropping
    /// the last App ends the task).
    app: App,
    /// The case's id or reference, as the request names it.
    case_key: String,
    input: PaymentInput,
    keyed: Option<KeyedRequest>,
    /// The audit actor of the request (a signed-in operator lives in the request's task).
    actor: String,
    reply: oneshot::Sender<BatchResult<Booked>>,
}

/// A queued payment whose case was found and whose body fits it.
struct Ready {
    checked: Checked,
    input: PaymentInput,
    keyed: Option<KeyedPayment>,
    actor: String,
    reply: oneshot::Sender<BatchResult<Booked>>,
}

/// Why a group's own transaction failed.
enum Failed {
    /// Before the commit: nothing of it was committed.
    BeforeCommit(AppError),
    /// The commit: whether it took effect is unknown.
    Commit(AppError),
}

impl PaymentWriter {
    /// The queue, starting the `writers` writer tasks if there are none (or their runtime
    /// ended).
    fn sender(&self, group_max: usize, writers: usize) -> mpsc::Sender<Job> {
        let mut sender = self.sender.lock().expect("payment writer lock");
        if let Some(s) = sender.as_ref().filter(|s| !s.is_closed()) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let group_max = group_max.clamp(*GROUP_MAX_RANGE.start(), *GROUP_MAX_RANGE.end());
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..writers.clamp(*WRITERS_RANGE.start(), *WRITERS_RANGE.end()) {
            tokio::spawn(run(rx.clone(), self.shared.clone(), group_max));
        }
        *sender = Some(tx.clone());
        tx
    }
}

/// A writer task: takes what is queued, a group at a time, until every App is gone. With
/// several writers, one at a time forms its group (holding the queue), then books it while
/// the next forms the following group.
async fn run(rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>, shared: Arc<Shared>, group_max: usize) {
    loop {
        let mut queue = rx.lock().await;
        let Some(first) = queue.recv().await else { return };
        let gate = shared.gate.clone().lock_owned().await;
        let mut jobs = vec![first];
        while jobs.len() < group_max {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        drop(gate);
        drop(queue);
        shared.waiting.fetch_sub(jobs.len(), Ordering::SeqCst);
        let n = jobs.len() as u64;
        shared.groups.fetch_add(1, Ordering::Relaxed);
        shared.payments.fetch_add(n, Ordering::Relaxed);
        shared.largest.fetch_max(n, Ordering::Relaxed);
        let app = jobs[0].app.clone();
        app.commit_group(jobs).await;
    }
}

impl App {
    /// Queues a payment on the case `case_key` names for the writer and waits until the
    /// transaction holding it committed (or failed): its booking, or its own error (a
    /// case not found, a body that does not fit it, a refusal).
    pub(crate) async fn book_grouped(&self, case_key: &str, input: PaymentInput, keyed: Option<KeyedRequest>) -> BatchResult<Booked> {
        let (reply, answer) = oneshot::channel();
        let job = Job { app: self.clone(), case_key: case_key.to_string(), input, keyed, actor: actor::resolve(actor::OPERATOR), reply };
        let writer = &self.payment_writer;
        writer.shared.waiting.fetch_add(1, Ordering::SeqCst);
        if let Err(mpsc::error::SendError(job)) = writer.sender(self.config.payment_group_max, self.payment_writers()).send(job).await {
            // The writer stopped between the check and the send: book it here, alone.
            writer.shared.waiting.fetch_sub(1, Ordering::SeqCst);
            self.commit_group(vec![job]).await;
        }
        answer.await.map_err(|_| AppError::internal("the payment writer stopped before answering"))?
    }

    /// The group's cases, found with one read whatever the group's size (by id, else by
    /// reference, as a payment alone is: `payments_batch::cases_by_keys`), and each body
    /// checked against its case; a payment whose case is not found or whose body does not
    /// fit is answered here, and never booked.
    async fn check_group(&self, jobs: Vec<Job>) -> Vec<Ready> {
        let found = match self.store.read_statement().await {
            Ok(mut tx) => crate::payments_batch::cases_by_keys(&mut tx, jobs.iter().map(|j| j.case_key.as_str())).await,
            Err(e) => Err(e.into()),
        };
        let found = match found {
            Ok(found) => found,
            Err(e) => {
                let message = format!("finding the cases of a group of payments failed: {e}");
                for job in jobs {
                    let _ = job.reply.send(Err(AppError::internal(message.clone())));
                }
                return Vec::new();
            }
        };
        let mut ready = Vec::with_capacity(jobs.len());
        for job in jobs {
            let checked =
                found.get(&job.case_key).cloned().ok_or(AppError::NotFound("case")).and_then(|case| check_payment_on(case, &job.input));
            match checked {
                Ok(checked) => {
                    let keyed = job.keyed.map(|k| k.on_case(checked.case.id));
                    ready.push(Ready { checked, input: job.input, keyed, actor: job.actor, reply: job.reply });
                }
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        ready
    }

    /// Books one group and answers each of its requests.
    async fn commit_group(&self, jobs: Vec<Job>) {
        let jobs = self.check_group(jobs).await;
        if jobs.is_empty() {
            return;
        }
        let items: Vec<Booking<'_>> =
            jobs.iter().map(|j| Booking { checked: &j.checked, input: &j.input, keyed: j.keyed.as_ref(), actor: Some(&j.actor) }).collect();
        let results = match self.book_all_or_none_in_own_transaction(&items).await {
            Ok(Some(booked)) => Ok(booked.into_iter().map(Ok).collect()),
            // A payment was refused: nothing was committed; book the group item by item.
            Ok(None) => {
                self.payment_writer.shared.rebooked.fetch_add(1, Ordering::Relaxed);
                self.book_in_own_transaction(&items).await
            }
            Err(failed) => Err(failed),
        };
        let results = match results {
            Ok(results) => results,
            Err(Failed::BeforeCommit(e)) if items.len() > 1 => {
                tracing::warn!(payments = items.len(), error = %e, "a group of payments failed before its commit; booking each alone");
                self.payment_writer.shared.retried_alone.fetch_add(1, Ordering::Relaxed);
                let mut results = Vec::with_capacity(items.len());
                for item in &items {
                    results.push(match self.book_in_own_transaction(std::slice::from_ref(item)).await {
                        Ok(mut one) => one.pop().unwrap_or_else(|| Err(AppError::internal("a booking without its result"))),
                        Err(Failed::BeforeCommit(e) | Failed::Commit(e)) => Err(e),
                    });
                }
                results
            }
            Err(Failed::BeforeCommit(e)) => vec![Err(e)],
            Err(Failed::Commit(e)) => {
                tracing::error!(payments = items.len(), error = %e, "committing a group of payments failed");
                let message = format!("committing the transaction of this payment (with {} others) failed: {e}", items.len() - 1);
                items.iter().map(|_| Err(AppError::internal(message.clone()))).collect()
            }
        };
        drop(items);
        for (job, result) in jobs.into_iter().zip(results) {
            // The request may have gone away; its payment stays booked (a retry replays it).
            let _ = job.reply.send(result);
        }
    }

    /// `items` booked together in a transaction of their own without a savepoint each
    /// ([`App::book_all_or_none`]): committed only if every item was booked, else rolled
    /// back (`Ok(None)`).
    async fn book_all_or_none_in_own_transaction(&self, items: &[Booking<'_>]) -> Result<Option<Vec<Booked>>, Failed> {
        let mut tx = self.store.begin_planned_once().await.map_err(|e| Failed::BeforeCommit(e.into()))?;
        let Some(booked) = self.book_all_or_none(&mut tx, items).await.map_err(Failed::BeforeCommit)? else {
            // Dropping `tx` rolls it back.
            return Ok(None);
        };
        tx.write_pending().await.map_err(|e| Failed::BeforeCommit(e.into()))?;
        tx.commit().await.map_err(|e| Failed::Commit(e.into()))?;
        Ok(Some(booked))
    }

    /// `items` booked together in a transaction of their own, each under its own savepoint.
    async fn book_in_own_transaction(&self, items: &[Booking<'_>]) -> Result<Vec<BatchResult<Booked>>, Failed> {
        let mut tx = self.store.begin_planned_once().await.map_err(|e| Failed::BeforeCommit(e.into()))?;
        let results = self.book_together(&mut tx, items).await.map_err(Failed::BeforeCommit)?;
        tx.write_pending().await.map_err(|e| Failed::BeforeCommit(e.into()))?;
        tx.commit().await.map_err(|e| Failed::Commit(e.into()))?;
        Ok(results)
    }

    /// How many payment writers book side by side: `AppConfig::payment_writers`, else one
    /// on SQLite and [`PG_PAYMENT_WRITERS`] on PostgreSQL.
    pub fn payment_writers(&self) -> usize {
        self.config.payment_writers.unwrap_or(match self.store.backend() {
            refshare_store::Backend::Sqlite => 1,
            refshare_store::Backend::Postgres => PG_PAYMENT_WRITERS,
        })
    }

    /// What the payment writer did so far.
    pub fn payment_group_stats(&self) -> PaymentGroupStats {
        let s = &self.payment_writer.shared;
        PaymentGroupStats {
            groups: s.groups.load(Ordering::Relaxed),
            payments: s.payments.load(Ordering::Relaxed),
            largest: s.largest.load(Ordering::Relaxed),
            retried_alone: s.retried_alone.load(Ordering::Relaxed),
            rebooked: s.rebooked.load(Ordering::Relaxed),
        }
    }

    /// Payments queued for the writer and not yet taken into a group.
    pub fn payments_waiting(&self) -> usize {
        self.payment_writer.shared.waiting.load(Ordering::SeqCst)
    }

    /// Keeps the payment writer from forming groups until the hold is dropped; payments
    /// queue meanwhile and then go in as few groups as `AppConfig::payment_group_max` allows. For
    /// tests and measurements that need a burst booked as one group.
    pub async fn hold_payment_groups(&self) -> PaymentGroupHold {
        PaymentGroupHold(self.payment_writer.shared.gate.clone().lock_owned().await)
    }
}
