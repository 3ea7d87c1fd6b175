//! Secrets at rest. The server secret (it signs client tokens) and the webhook signing
//! secrets are stored sealed with XChaCha20-Poly1305 under the installation's secret key
//! (`REFSHARE_SECRET_KEY` or `REFSHARE_SECRET_KEY_FILE`), so a copy of the database alone
//! can neither mint tokens nor forge webhook signatures. The key never enters the
//! database.
//!
//! A sealed value is text: `sealed:v1:` and the Base64 of a random 24-byte nonce, the
//! ciphertext and its 16-byte tag. Its associated data names where it lives (the server
//! secret, or one webhook subscription), so a sealed value moved to another place does
//! not open. A [`Keyring`] holds the current key and, during a rotation, the previous one
//! (`REFSHARE_SECRET_KEY_OLD`): what only the previous key opens is reported as stale, and
//! the caller seals it again under the current key.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// How a sealed value starts. Plaintext secrets (hex or Base64) never contain `:`.
pub const SEALED_PREFIX: &str = "sealed:v1:";
/// Length of a secret key in bytes.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// A 32-byte secret key. `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LEN]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> SecretKey {
        SecretKey(rand::random())
    }

    /// Reads a key written as 64 hex digits or as Base64 (standard or URL-safe, padded or
    /// not) of exactly 32 bytes, such as `openssl rand -base64 32` prints. Surrounding
    /// whitespace is ignored. The error says what is wrong, never the value.
    pub fn parse(text: &str) -> Result<SecretKey, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        let bytes = if t.len() == 2 * KEY_LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            let unpadded = t.trim_end_matches('=');
            B64.decode(unpadded).ok().or_else(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded).ok())
        };
        match bytes {
            Some(b) if b.len() == KEY_LEN => {
                let mut k = [0u8; KEY_LEN];
                k.copy_from_slice(&b);
                Ok(SecretKey(k))
            }
            Some(b) => Err(format!("must be {KEY_LEN} bytes, got {} (generate one with `openssl rand -base64 32`)", b.len())),
            None => Err("must be 32 bytes as 64 hex digits or Base64 (generate one with `openssl rand -base64 32`)".into()),
        }
    }

    /// The key as padded Base64, which [`SecretKey::parse`] reads back.
    pub fn to_text(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }
}

/// Why a stored secret did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Authentication failed: sealed under another key (or altered).
    #[error(
        "REFSHARE_SECRET_KEY does not open the {what} stored in the database: it was sealed under another key \
         (set REFSHARE_SECRET_KEY to that key; to rotate, set the new key and REFSHARE_SECRET_KEY_OLD to the old one)"
    )]
    WrongKey { what: String },
    /// Not a sealed value at all, or cut short.
    #[error("the sealed {what} stored in the database is damaged: {reason}")]
    Damaged { what: String, reason: String },
}

/// A value opened by a [`Keyring`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Opened only by the previous key: seal it again under the current one.
    pub stale: bool,
}

/// The current key, and during a rotation the previous one. `Debug` shows no key.
#[derive(Clone)]
pub struct Keyring {
    current: SecretKey,
    previous: Option<SecretKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring {{ previous: {} }}", self.previous.is_some())
    }
}

/// Whether a stored value is sealed (otherwise it is a plaintext secret of an older
/// database, to be sealed on start).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

impl Keyring {
    pub fn new(current: SecretKey, previous: Option<SecretKey>) -> Keyring {
        Keyring { current, previous }
    }

    /// One key, no rotation in progress.
    pub fn single(current: SecretKey) -> Keyring {
        Keyring::new(current, None)
    }

    /// The key that seals.
    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// Seals `plaintext` under the current key, bound to `place` (the associated data).
    pub fn seal(&self, place: &str, plaintext: &[u8]) -> String {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .current
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: place.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", B64.encode(out))
    }

    /// Opens a value sealed at `place`; `what` names it in the error.
    pub fn open(&self, place: &str, stored: &str, what: &str) -> Result<Opened, SealError> {
        let damaged = |reason: &str| SealError::Damaged { what: what.into(), reason: reason.into() };
        let body = stored.strip_prefix(SEALED_PREFIX).ok_or_else(|| damaged("it is not sealed"))?;
        let raw = B64.decode(body).map_err(|_| damaged("it is not Base64"))?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            return Err(damaged("it is too short"));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let try_key = |k: &SecretKey| k.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: place.as_bytes() }).ok();
        if let Some(plaintext) = try_key(&self.current) {
            return Ok(Opened { plaintext, stale: false });
        }
        match self.previous.as_ref().and_then(try_key) {
            Some(plaintext) => Ok(Opened { plaintext, stale: true }),
            None => Err(SealError::WrongKey { what: what.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_key_and_place() {
        let ring = Keyring::single(SecretKey::generate());
        let sealed = ring.seal("server-secret", b"the secret");
        assert!(is_sealed(&sealed) && !sealed.contains("the secret"));
        assert_ne!(sealed, ring.seal("server-secret", b"the secret"), "a fresh nonce each time");
        assert_eq!(ring.open("server-secret", &sealed, "x").unwrap(), Opened { plaintext: b"the secret".to_vec(), stale: false });
        assert!(matches!(ring.open("webhook-secret:1", &sealed, "x"), Err(SealError::WrongKey { .. })), "moved elsewhere");
        let other = Keyring::single(SecretKey::generate());
        let err = other.open("server-secret", &sealed, "server secret").unwrap_err();
        assert!(err.to_string().contains("REFSHARE_SECRET_KEY") && err.to_string().contains("server secret"), "{err}");
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(ring.open("server-secret", std::str::from_utf8(&tampered).unwrap(), "x").is_err());
        for bad in ["plain", "sealed:v1:!!", "sealed:v1:AAAA"] {
            assert!(matches!(ring.open("p", bad, "x"), Err(SealError::Damaged { .. })), "{bad}");
        }
    }

    #[test]
    fn the_previous_key_opens_during_a_rotation_and_says_stale() {
        let (old, new) = (SecretKey::generate(), SecretKey::generate());
        let sealed_old = Keyring::single(old.clone()).seal("p", b"v");
        let rotating = Keyring::new(new.clone(), Some(old));
        assert_eq!(rotating.open("p", &sealed_old, "x").unwrap(), Opened { plaintext: b"v".to_vec(), stale: true });
        let resealed = rotating.seal("p", b"v");
        assert!(!Keyring::single(new).open("p", &resealed, "x").unwrap().stale);
    }

    #[test]
    fn keys_parse_from_hex_or_base64_and_say_what_is_wrong() {
        let k = SecretKey::generate();
        assert_eq!(SecretKey::parse(&k.to_text()).unwrap(), k);
        assert_eq!(SecretKey::parse(&format!("  {}\n", hex::encode(k.0))).unwrap(), k);
        assert_eq!(SecretKey::parse(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k.0)).unwrap(), k);
        assert_eq!(SecretKey::parse(k.to_text().trim_end_matches('=')).unwrap(), k);
        assert!(SecretKey::parse("").unwrap_err().contains("empty"));
        assert!(SecretKey::parse("c2hvcnQ=").unwrap_err().contains("32 bytes"));
        assert!(SecretKey::parse("not a key at all!").is_err());
        assert_eq!(format!("{k:?}"), "SecretKey(…)");
    }
}
