//! Bulk payments (`POST /admin-api/v1/payments/batch`, issue 9): up to
//! [`MAX_BATCH_PAYMENTS`] payments in one request, as JSON items or as `text/csv` rows.
//!
//! Each item is decided exactly as a single payment (`payments`): the same validation,
//! the same booking function under the case's lock, so the same decision, ledger entries,
//! webhook events and audit entry. `externalId` is required, so a retried batch replays
//! what was booked (`replayed`) instead of booking it twice. A bad item is rejected with
//! the error the single endpoint would have answered and does not stop the others: each
//! booking runs under its own savepoint ([`Savepoint::SharedPayment`]). The same machinery
//! ([`App::book_together`]) books the groups of single payments (`payments_group`).
//!
//! Writes go in large transactions of at most [`PAYMENTS_PER_TRANSACTION`] items. A
//! chunk first resolves its cases and takes their locks in id order, before it writes
//! anything; a group of single payments takes its keys' locks and then its cases' locks
//! the same way, so no other chunk or group can hold a lock a chunk waits for while
//! waiting for one the chunk holds. A chunk that commits stays committed even if a later one fails
//! (the request then fails; retrying it replays the committed items).

use std::collections::{BTreeSet, HashMap};

use refshare_core::parse::{check_controls, TextKind};
use refshare_store::{CaseRecord, Savepoint, Tx};
use serde_json::Value;
use uuid::Uuid;

use crate::cases::Rendered;
use crate::error::FieldError;
use crate::idempotency::Keyed;
use crate::payments::{
    check_payment_on, is_stored_refusal, Checked, GroupReads, KeyedPayment, PaymentInput, PaymentOutcome, PAYMENT_KEY_SCOPE,
};
use crate::{App, AppError};

/// Most payments in one request.
pub const MAX_BATCH_PAYMENTS: usize = 10_000;

/// Most payments booked in one transaction.
pub const PAYMENTS_PER_TRANSACTION: usize = 1_000;

/// The properties of a JSON batch item; any other is refused (400 naming it).
pub const BATCH_ITEM_PROPERTIES: [&str; 5] = ["case", "amount", "externalId", "paidAt", "allowOverpayment"];

/// The columns of a CSV batch, in order; `allowOverpayment` may follow as a fifth.
pub const CSV_COLUMNS: [&str; 4] = ["case", "amount", "externalId", "paidAt"];

/// Most field errors listed in one 400.
const MAX_FIELD_ERRORS: usize = 20;

/// One well-formed item of a batch: the case (id or reference) and the body the single
/// endpoint would have taken, with its `externalId`.
#[derive(Debug, Clone)]
pub struct BatchPayment {
    pub case: String,
    pub input: PaymentInput,
}

/// An item as parsed: a payment to book, or why it is rejected before any booking.
pub type BatchItem = Result<BatchPayment, AppError>;

/// What became of one item: booked (`replayed` when its `externalId` was booked before),
/// or the error the single endpoint would have answered.
pub type BatchResult<T = PaymentOutcome> = Result<T, AppError>;

/// One payment to book in a transaction shared with others ([`App::book_together`]):
/// its case resolved and its body checked.
pub(crate) struct Booking<'a> {
    pub checked: &'a Checked,
    pub input: &'a PaymentInput,
    /// The single request's `Idempotency-Key`, if it came with one.
    pub keyed: Option<&'a KeyedPayment>,
    /// The audit actor of the request, when the booking runs outside the request's task
    /// (group commit); `None` books as the current task's actor.
    pub actor: Option<&'a str>,
}

/// What a booking answered: the payment, or (under an `Idempotency-Key`) the response
/// rendered and stored with the key, or replayed from it.
pub(crate) enum Booked {
    Payment(PaymentOutcome),
    Answered(Rendered),
}

impl Booked {
    pub(crate) fn payment(self) -> Result<PaymentOutcome, AppError> {
        match self {
            Booked::Payment(out) => Ok(out),
            Booked::Answered(_) => Err(AppError::internal("a keyed answer where a payment was expected")),
        }
    }

    pub(crate) fn answer(self) -> Result<Rendered, AppError> {
        match self {
            Booked::Answered(r) => Ok(r),
            Booked::Payment(_) => Err(AppError::internal("a payment where a keyed answer was expected")),
        }
    }
}

fn too_many(n: usize) -> AppError {
    AppError::bad_field("payments", format!("holds {n} payments; at most {MAX_BATCH_PAYMENTS} are accepted in one request"))
}

/// The items of a JSON batch's `payments` (already camel-cased and checked for control
/// characters by the web layer). A missing or non-array `payments`, more than
/// [`MAX_BATCH_PAYMENTS`] items, or a property no item may have is a 400 for the whole
/// request; a bad value only rejects its item.
pub fn batch_from_json(payments: &Value) -> Result<Vec<BatchItem>, AppError> {
    let items = match payments {
        Value::Array(items) => items,
        Value::Null => return Err(AppError::bad_field("payments", "is required: an array of payments")),
        _ => return Err(AppError::bad_field("payments", "must be an array of payments")),
    };
    if items.len() > MAX_BATCH_PAYMENTS {
        return Err(too_many(items.len()));
    }
    let mut unknown = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Value::Object(map) = item {
            for k in map.keys().filter(|k| !BATCH_ITEM_PROPERTIES.contains(&k.as_str())) {
                unknown.push(FieldError { field: format!("payments[{i}].{k}"), message: "is not a known property".into() });
            }
        }
    }
    if !unknown.is_empty() {
        unknown.truncate(MAX_FIELD_ERRORS);
        return Err(AppError::Validation(unknown));
    }
    Ok(items.iter().map(item_from_json).collect())
}

/// One JSON item; every problem with its values is listed in the one rejection.
fn item_from_json(v: &Value) -> BatchItem {
    let Value::Object(map) = v else {
        return Err(AppError::bad_field("payment", "must be an object"));
    };
    let get = |k: &str| map.get(k).filter(|v| !v.is_null());
    let mut errors = Vec::new();
    let mut bad = |field: &str, message: &str| errors.push(FieldError { field: field.into(), message: message.into() });
    let case = match get("case") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) | None => {
            bad("case", "is required: a case id or reference");
            None
        }
        Some(_) => {
            bad("case", "must be a string: a case id or reference");
            None
        }
    };
    let amount = match get("amount") {
        Some(Value::Number(n)) => Some(n.clone()),
        None => {
            bad("amount", "is required");
            None
        }
        Some(_) => {
            bad("amount", "must be a decimal number");
            None
        }
    };
    let external_id = match get("externalId") {
        Some(Value::String(s)) => Some(s.clone()),
        None => {
            bad("externalId", "is required in a batch (it makes a retried batch safe)");
            None
        }
        Some(_) => {
            bad("externalId", "must be a string");
            None
        }
    };
    let paid_at = match get("paidAt") {
        None => None,
        Some(Value::String(s)) => parse_paid_at(s).map_err(|m| bad("paidAt", m)).ok(),
        Some(_) => {
            bad("paidAt", PAID_AT_FORMAT);
            None
        }
    };
    let allow_overpayment = match get("allowOverpayment") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            bad("allowOverpayment", "must be true or false");
            false
        }
    };
    match (case, amount, external_id) {
        (Some(case), Some(amount), Some(external_id)) if errors.is_empty() => Ok(BatchPayment {
            case,
            input: PaymentInput { amount, paid_at: paid_at.flatten(), external_id: Some(external_id), allow_overpayment },
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

const PAID_AT_FORMAT: &str = "must be a date-time with its offset (RFC 3339, e.g. 2026-03-10T12:00:00Z)";

/// `paidAt` as the single endpoint reads it (chrono's own deserialisation).
fn parse_paid_at(s: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, &'static str> {
    serde_json::from_value(Value::String(s.to_string())).map(Some).map_err(|_| PAID_AT_FORMAT)
}

/// The items of a `text/csv` batch: a header `case,amount,externalId,paidAt` (names
/// matched case-insensitively, optionally followed by `allowOverpayment`), then one row
/// per payment. Fields may be quoted (`"…"`, `""` for a quote) but not span lines; blank
/// lines are skipped; values are trimmed; an empty `paidAt` means now. A missing or wrong
/// header, or more than [`MAX_BATCH_PAYMENTS`] rows, is a 400; a malformed row rejects
/// only its item (its index counts the rows after the header).
pub fn batch_from_csv(text: &str) -> Result<Vec<BatchItem>, AppError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).filter(|l| !l.trim().is_empty());
    let header_help = "must be `case,amount,externalId,paidAt` (optionally followed by `,allowOverpayment`)";
    let header = lines.next().ok_or_else(|| AppError::bad_field("header", format!("is missing: the first line {header_help}")))?;
    let names = csv_fields(header).map_err(|m| AppError::bad_field("header", m))?;
    let names: Vec<&str> = names.iter().map(|n| n.trim()).collect();
    let expected = |n: usize| CSV_COLUMNS.iter().chain(["allowOverpayment"].iter()).take(n).copied();
    let columns = names.len();
    if !(columns == 4 || columns == 5) || !names.iter().zip(expected(columns)).all(|(n, e)| n.eq_ignore_ascii_case(e)) {
        return Err(AppError::bad_field("header", format!("{header_help}; it is `{}`", header.chars().take(200).collect::<String>())));
    }
    let rows: Vec<&str> = lines.collect();
    if rows.len() > MAX_BATCH_PAYMENTS {
        return Err(too_many(rows.len()));
    }
    Ok(rows.into_iter().map(|row| item_from_csv(row, columns)).collect())
}

/// One CSV row under a header of `columns` columns.
fn item_from_csv(row: &str, columns: usize) -> BatchItem {
    let fields = csv_fields(row).map_err(|m| AppError::bad_field("row", m))?;
    if fields.len() != columns {
        return Err(AppError::bad_field("row", format!("has {} fields; the header has {columns}", fields.len())));
    }
    let mut errors = Vec::new();
    for (name, value) in CSV_COLUMNS.iter().chain(["allowOverpayment"].iter()).zip(&fields) {
        if let Err(e) = check_controls(value, TextKind::Line) {
            errors.push(FieldError { field: (*name).into(), message: e.to_string() });
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let f: Vec<&str> = fields.iter().map(|f| f.trim()).collect();
    let mut bad = |field: &str, message: &str| errors.push(FieldError { field: field.into(), message: message.into() });
    if f[0].is_empty() {
        bad("case", "is required: a case id or reference");
    }
    // The same grammar as a JSON number: `12.34`, not `+12` or `12,34`.
    let amount = if f[1].is_empty() {
        bad("amount", "is required");
        None
    } else {
        serde_json::from_str::<serde_json::Number>(f[1]).map_err(|_| bad("amount", "must be a decimal number")).ok()
    };
    if f[2].is_empty() {
        bad("externalId", "is required in a batch (it makes a retried batch safe)");
    }
    let paid_at = if f[3].is_empty() { None } else { parse_paid_at(f[3]).map_err(|m| bad("paidAt", m)).ok().flatten() };
    let allow_overpayment = match f.get(4).copied() {
        None | Some("") => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => {
            bad("allowOverpayment", "must be true, false or empty");
            false
        }
    };
    match amount {
        Some(amount) if errors.is_empty() => Ok(BatchPayment {
            case: f[0].to_string(),
            input: PaymentInput { amount, paid_at, external_id: Some(f[2].to_string()), allow_overpayment },
        }),
        _ => Err(AppError::Validation(errors)),
    }
}

/// Splits one CSV line into its fields (RFC 4180 quoting within the line).
fn csv_fields(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let (mut in_quotes, mut closed) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    current.push('"');
                } else {
                    in_quotes = false;
                    closed = true;
                }
            }
            '"' if !closed && current.trim().is_empty() => {
                current.clear();
                in_quotes = true;
            }
            '"' => return Err("has a quote inside an unquoted field"),
            ',' if !in_quotes => {
                fields.push(std::mem::take(&mut current));
                closed = false;
            }
            c if closed && !c.is_whitespace() => return Err("has text after a closing quote"),
            c => current.push(c),
        }
    }
    if in_quotes {
        return Err("has a quoted field that is not closed on its line");
    }
    fields.push(current);
    Ok(fields)
}

/// Case keys as the single endpoint resolves each: an id, else a reference. Keys that
/// name no case are left out. Two queries (per `IN` chunk) whatever the number of keys.
pub(crate) async fn cases_by_keys<'k>(tx: &mut Tx, keys: impl Iterator<Item = &'k str>) -> Result<HashMap<String, CaseRecord>, AppError> {
    let (mut ids, mut references) = (BTreeSet::new(), Vec::new());
    for key in keys {
        match Uuid::parse_str(key) {
            Ok(id) => ids.insert((id, key.to_string())),
            Err(_) => {
                references.push(key.to_string());
                continue;
            }
        };
    }
    let mut out = HashMap::new();
    if !ids.is_empty() {
        let by_id: HashMap<Uuid, CaseRecord> =
            tx.cases_by_ids(ids.iter().map(|(id, _)| *id)).await?.into_iter().map(|c| (c.id, c)).collect();
        for (id, key) in ids {
            if let Some(case) = by_id.get(&id) {
                out.insert(key, case.clone());
            }
        }
    }
    if !references.is_empty() {
        for case in tx.cases_by_references(&references).await? {
            out.insert(case.reference.clone(), case);
        }
    }
    Ok(out)
}

impl App {
    /// Books a batch in order, [`PAYMENTS_PER_TRANSACTION`] items per transaction; one
    /// result per item, in order.
    pub async fn register_payment_batch(&self, items: Vec<BatchItem>) -> Result<Vec<BatchResult>, AppError> {
        if items.len() > MAX_BATCH_PAYMENTS {
            return Err(too_many(items.len()));
        }
        let mut results = Vec::with_capacity(items.len());
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<BatchItem> = items.by_ref().take(PAYMENTS_PER_TRANSACTION).collect();
            results.extend(self.book_batch_chunk(chunk).await?);
        }
        Ok(results)
    }

    /// One transaction: resolve the chunk's cases, check each item as the single endpoint
    /// does, then book them together ([`App::book_together`]).
    async fn book_batch_chunk(&self, chunk: Vec<BatchItem>) -> Result<Vec<BatchResult>, AppError> {
        let mut tx = self.store.begin_planned_once().await?;
        let cases = cases_by_keys(&mut tx, chunk.iter().flatten().map(|p| p.case.as_str())).await?;
        let checked: Vec<Result<(Checked, PaymentInput), AppError>> = chunk
            .into_iter()
            .map(|item| {
                let p = item?;
                let case = cases.get(&p.case).cloned().ok_or(AppError::NotFound("case"))?;
                Ok((check_payment_on(case, &p.input)?, p.input))
            })
            .collect();
        let bookings: Vec<Booking<'_>> =
            checked.iter().flatten().map(|(checked, input)| Booking { checked, input, keyed: None, actor: None }).collect();
        let mut booked = self.book_together(&mut tx, &bookings).await?.into_iter();
        let results = checked
            .into_iter()
            .map(|c| match c {
                Err(e) => Err(e),
                Ok(_) => booked.next().unwrap_or_else(|| Err(AppError::internal("a booking without its result"))).and_then(Booked::payment),
            })
            .collect();
        tx.commit().await?;
        Ok(results)
    }

    /// Books `items` inside `tx`, the one machinery of a transaction shared by several
    /// payments (a batch chunk, a group of single payments, `payments_group`). It first
    /// takes every lock the items need, in one order: the `Idempotency-Key`s' locks by key,
    /// then the cases' locks by id; only then does it write. Any two such transactions, and
    /// a transaction of one payment, thus take their locks in the same order and cannot
    /// deadlock on them. Then each item is booked by the single payment's booking
    /// ([`App::book_payment`]) under its own savepoint ([`Savepoint::SharedPayment`]): a
    /// refused item is undone alone and gets its own error; the others go on. One result
    /// per item, in order; `Err` only when `tx` itself failed (nothing of it may be
    /// committed then).
    pub(crate) async fn book_together(&self, tx: &mut Tx, items: &[Booking<'_>]) -> Result<Vec<BatchResult<Booked>>, AppError> {
        let reads = self.lock_and_read(tx, items).await?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            tx.savepoint(Savepoint::SharedPayment).await?;
            let result = self.book_as_actor(tx, item, &reads).await;
            match result {
                Ok(_) => tx.release_savepoint(Savepoint::SharedPayment).await?,
                // If even this fails, the connection is gone: the whole transaction fails.
                Err(_) => tx.rollback_to_savepoint(Savepoint::SharedPayment).await?,
            }
            results.push(result);
        }
        Ok(results)
    }

    /// [`App::book_together`] without a savepoint per item, for when refusals are rare (the
    /// groups of single payments): every item booked (`Ok(Some)`), or, at the first
    /// refusal, `Ok(None)` and nothing else booked, so `tx` must be rolled back (the
    /// caller books the items again with [`App::book_together`]). When every item is
    /// booked, the outcome is what [`App::book_together`] gives: a savepoint released is
    /// no change. Two statements fewer per item.
    pub(crate) async fn book_all_or_none(&self, tx: &mut Tx, items: &[Booking<'_>]) -> Result<Option<Vec<Booked>>, AppError> {
        let reads = self.lock_and_read(tx, items).await?;
        let mut booked = Vec::with_capacity(items.len());
        for item in items {
            match self.book_as_actor(tx, item, &reads).await {
                Ok(b) => booked.push(b),
                Err(_) => return Ok(None),
            }
        }
        Ok(Some(booked))
    }

    /// Every lock the items need, in one order (the `Idempotency-Key`s' by key, then the
    /// cases' by id), then what their bookings read, once for all of them.
    async fn lock_and_read(&self, tx: &mut Tx, items: &[Booking<'_>]) -> Result<GroupReads, AppError> {
        let keys: BTreeSet<&str> = items.iter().filter_map(|i| i.keyed).map(|k| k.key.as_str()).collect();
        for key in keys {
            tx.lock_idempotency_key(PAYMENT_KEY_SCOPE, key).await?;
        }
        let ids: BTreeSet<Uuid> = items.iter().map(|i| i.checked.case.id).collect();
        tx.lock_cases(&ids).await?;
        // Read once for the group, under the locks; dropped with the caller's booking.
        GroupReads::load(tx, &ids).await
    }

    /// [`App::book_item`] as the item's actor.
    async fn book_as_actor(&self, tx: &mut Tx, item: &Booking<'_>, reads: &GroupReads) -> Result<Booked, AppError> {
        let attempt = self.book_item(tx, item, reads);
        match item.actor {
            Some(who) => crate::actor::as_operator(who.to_string(), attempt).await,
            None => attempt.await,
        }
    }

    /// One item of [`App::book_together`]: the booking, or with an `Idempotency-Key` the
    /// key's flow around it (`idempotency`: replay, conflict, or book and store the answer).
    async fn book_item(&self, tx: &mut Tx, item: &Booking<'_>, reads: &GroupReads) -> Result<Booked, AppError> {
        let Some(keyed) = item.keyed else {
            return self.book_payment(tx, item.checked, item.input, Some(reads)).await.map(Booked::Payment);
        };
        let req = Keyed { scope: PAYMENT_KEY_SCOPE, key: &keyed.key, request_hash: keyed.request_hash.clone() };
        let attempt = async |tx: &mut Tx| self.book_payment(tx, item.checked, item.input, Some(reads)).await;
        let (rendered, _) = self.idempotent_in(tx, req, attempt, is_stored_refusal, &keyed.render).await?;
        Ok(Booked::Answered(rendered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: &AppError) -> Vec<String> {
        match e {
            AppError::Validation(f) => f.iter().map(|f| f.field.clone()).collect(),
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn json_items_name_each_bad_value_and_unknown_properties_refuse_the_batch() {
        let items = batch_from_json(&serde_json::json!([
            {"case": "DEB-1", "amount": 12.5, "externalId": "a", "paidAt": "2026-03-01T10:00:00Z", "allowOverpayment": true},
            {"case": "DEB-1", "amount": "12", "paidAt": "yesterday"},
            {"amount": 1, "externalId": "c"},
            7,
        ]))
        .unwrap();
        let first = items[0].as_ref().unwrap();
        assert_eq!((first.case.as_str(), first.input.amount.to_string().as_str()), ("DEB-1", "12.5"));
        assert!(first.input.allow_overpayment && first.input.paid_at.is_some());
        assert_eq!(field(items[1].as_ref().unwrap_err()), ["amount", "externalId", "paidAt"]);
        assert_eq!(field(items[2].as_ref().unwrap_err()), ["case"]);
        assert_eq!(field(items[3].as_ref().unwrap_err()), ["payment"]);

        let unknown = batch_from_json(&serde_json::json!([{"case": "x"}, {"case": "y", "amout": 1}])).unwrap_err();
        assert_eq!(field(&unknown), ["payments[1].amout"]);
        assert_eq!(field(&batch_from_json(&Value::Null).unwrap_err()), ["payments"]);
        let many = Value::Array(vec![serde_json::json!({}); MAX_BATCH_PAYMENTS + 1]);
        assert_eq!(field(&batch_from_json(&many).unwrap_err()), ["payments"]);
        assert_eq!(batch_from_json(&Value::Array(vec![serde_json::json!({}); MAX_BATCH_PAYMENTS])).unwrap().len(), MAX_BATCH_PAYMENTS);
    }

    #[test]
    fn csv_rows_are_items_and_the_header_is_checked() {
        let csv = "\u{feff}Case,Amount,ExternalId,PaidAt\r\n\
                   DEB-1,12.34,x-1,2026-03-01T10:00:00Z\r\n\
                   \r\n\
                   \"DEB-2\", 5 ,\"x, \"\"2\"\"\",\r\n\
                   DEB-3,+5,x-3,\n\
                   DEB-4,5,x-4\n\
                   DEB-5,5,\"x-5,\n\
                   DEB-6,5,,\n";
        let items = batch_from_csv(csv).unwrap();
        assert_eq!(items.len(), 6, "blank lines are skipped");
        let a = items[0].as_ref().unwrap();
        assert_eq!((a.case.as_str(), a.input.external_id.as_deref()), ("DEB-1", Some("x-1")));
        assert!(a.input.paid_at.is_some());
        let b = items[1].as_ref().unwrap();
        assert_eq!(
            (b.case.as_str(), b.input.amount.to_string().as_str(), b.input.external_id.as_deref()),
            ("DEB-2", "5", Some("x, \"2\""))
        );
        assert_eq!(b.input.paid_at, None);
        assert_eq!(field(items[2].as_ref().unwrap_err()), ["amount"]);
        assert_eq!(field(items[3].as_ref().unwrap_err()), ["row"]);
        assert_eq!(field(items[4].as_ref().unwrap_err()), ["row"]);
        assert_eq!(field(items[5].as_ref().unwrap_err()), ["externalId"]);

        let five = batch_from_csv("case,amount,externalId,paidAt,allowOverpayment\nDEB-1,1,x,,TRUE\nDEB-1,1,y,,maybe\n").unwrap();
        assert!(five[0].as_ref().unwrap().input.allow_overpayment);
        assert_eq!(field(five[1].as_ref().unwrap_err()), ["allowOverpayment"]);
        for bad in ["", "\n\n", "case,amount,paidAt,externalId\nDEB-1,1,,x", "case;amount;externalId;paidAt\n", "case,amount,externalId\n"]
        {
            assert_eq!(field(&batch_from_csv(bad).unwrap_err()), ["header"], "{bad:?}");
        }
        let many = format!("case,amount,externalId,paidAt\n{}", "DEB-1,1,x,\n".repeat(MAX_BATCH_PAYMENTS + 1));
        assert_eq!(field(&batch_from_csv(&many).unwrap_err()), ["payments"]);
    }

    #[test]
    fn quoted_fields_follow_rfc_4180_within_a_line() {
        assert_eq!(csv_fields("a,\"b,c\",\"d\"\"e\"").unwrap(), ["a", "b,c", "d\"e"]);
        assert_eq!(csv_fields("a,,").unwrap(), ["a", "", ""]);
        assert!(csv_fields("a\"b,c").is_err());
        assert!(csv_fields("\"a\"b,c").is_err());
        assert!(csv_fields("\"a,c").is_err());
    }
}
