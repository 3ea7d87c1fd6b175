-- The notification log is read newest first, optionally for one address (ASCII
-- case-insensitive) and kind (`Tx::notifications`: the operator's /notifications, the
-- test environment's /dev/mail): bounded reads on these indexes instead of the whole log.
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_to_lower ON notifications (lower(to_addr), created_at, id);
DROP INDEX notifications_to;
