//! Delivery signatures: `X-Debitura-Signature: t={unix seconds},v1={hex HMAC-SHA256}`
//! over `"{t}.{raw body}"`, keyed with the subscription secret exactly as it was handed
//! out (its Base64 text, as bytes). During a rotation overlap there is one `v1=` per
//! valid secret, newest first. Receivers should refuse a `t` more than
//! [`TOLERANCE_SECONDS`] away from their clock.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "X-Debitura-Signature";
/// How far a receiver should let `t` drift from its clock.
pub const TOLERANCE_SECONDS: i64 = 300;

/// A new random secret: 32 bytes, Base64.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Hex HMAC-SHA256 of `"{t}.{body}"` under `secret`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value, with one `v1=` per secret.
pub fn header_value(secrets: &[&str], t: i64, body: &[u8]) -> String {
    let mut out = format!("t={t}");
    for s in secrets {
        out.push_str(",v1=");
        out.push_str(&sign(s, t, body));
    }
    out
}

/// Verifies a header as a receiver would: `t` within the tolerance of `now_unix` and
/// one `v1=` matching (compared in constant time).
pub fn verify(header: &str, secret: &str, body: &[u8], now_unix: i64) -> bool {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_unix - t).abs() > TOLERANCE_SECONDS {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    sigs.iter().filter_map(|s| hex::decode(s).ok()).any(|s| mac.clone().verify_slice(&s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tampering() {
        let secret = new_secret();
        let body = br#"{"id":"e1","type":"case.created"}"#;
        let h = header_value(&[&secret], 1_700_000_000, body);
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify(&h, &secret, body, 1_700_000_100));
        assert!(!verify(&h, &secret, br#"{"id":"e1","type":"case.closed"}"#, 1_700_000_100), "tampered body");
        assert!(!verify(&h, &new_secret(), body, 1_700_000_100), "other secret");
        assert!(!verify(&h, &secret, body, 1_700_000_301), "outside the tolerance");
    }

    #[test]
    fn both_secrets_during_rotation() {
        let (old, new) = (new_secret(), new_secret());
        let h = header_value(&[&new, &old], 42, b"{}");
        assert_eq!(h.matches("v1=").count(), 2);
        assert!(verify(&h, &old, b"{}", 42) && verify(&h, &new, b"{}", 42));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key "secret", "1.{}"), computed independently.
        assert_eq!(sign("secret", 1, b"{}"), "1122767b193110cfec322b6f199b599edbf608ed087f2d27afb0b97d99523908");
        assert_ne!(sign("secret", 1, b"{}"), sign("secret", 2, b"{}"));
    }
}
