//! Parse, don't validate: small newtypes that cannot hold invalid input.

use std::fmt;

/// Errors of the parsers below; each names the value's problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("`{0}` is not a valid e-mail address")]
    Email(String),
    #[error("`{0}` is not an ISO 3166-1 alpha-2 country code")]
    Country(String),
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters (found {})", char_name(*.0))]
    ControlCharacter(char),
}

/// `U+0000` style.
fn char_name(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// How a text may use the C0 control characters (U+0000 to U+001F).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Names, ids, codes, references, addresses of all kinds: none at all.
    Line,
    /// Reasons, descriptions, notes, messages: tab and line breaks (LF, CR) only.
    FreeText,
}

/// Refuses C0 control characters in `s` (see [`TextKind`]). PostgreSQL cannot store
/// U+0000 in text, and none of them belongs in a name or a reference.
pub fn check_controls(s: &str, kind: TextKind) -> Result<(), ParseError> {
    // Bytes below 0x20 are never part of a multi-byte UTF-8 sequence, so a byte scan finds
    // exactly the C0 characters.
    let free = kind == TextKind::FreeText;
    match s.bytes().find(|b| *b < 0x20 && !(free && matches!(b, b'\t' | b'\n' | b'\r'))) {
        Some(b) => Err(ParseError::ControlCharacter(char::from(b))),
        None => Ok(()),
    }
}

/// An e-mail address, compared case-insensitively (stored lower-case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, ParseError> {
        let t = s.trim();
        let bad = || ParseError::Email(s.to_string());
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.contains('@')
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Email(t.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(s: &str) -> Result<Country, ParseError> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 2 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(ParseError::Country(s.to_string()));
        }
        Ok(Country([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII")
    }

    /// A stable integer id (1–676) for APIs that filter countries by number: the two
    /// letters read as base-26 digits. `from_id` inverts it.
    pub fn id(&self) -> u32 {
        (self.0[0] - b'A') as u32 * 26 + (self.0[1] - b'A') as u32 + 1
    }

    pub fn from_id(id: u32) -> Option<Country> {
        (1..=676).contains(&id).then(|| Country([b'A' + ((id - 1) / 26) as u8, b'A' + ((id - 1) % 26) as u8]))
    }
}

/// A required, trimmed, length-limited text.
pub fn required_text(s: &str, max: usize) -> Result<String, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    if t.chars().count() > max {
        return Err(ParseError::TooLong { max });
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Ann@Example.COM ").unwrap().as_str(), "ann@example.com");
        for bad in ["", "a", "a@b", "@x.com", "a b@x.com", "a@.com", "a@x."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries() {
        assert_eq!(Country::parse("gb").unwrap().as_str(), "GB");
        assert!(Country::parse("GBR").is_err());
        assert!(Country::parse("1A").is_err());
    }
}

#[cfg(test)]
mod control_tests {
    use super::*;

    #[test]
    fn every_c0_character_is_refused_in_a_line_and_only_tab_and_line_breaks_pass_in_free_text() {
        for code in 0u32..0x20 {
            let c = char::from_u32(code).unwrap();
            let s = format!("a{c}b");
            assert_eq!(check_controls(&s, TextKind::Line), Err(ParseError::ControlCharacter(c)), "{code:#x}");
            let free_ok = matches!(c, '\t' | '\n' | '\r');
            assert_eq!(check_controls(&s, TextKind::FreeText).is_ok(), free_ok, "{code:#x}");
        }
        assert!(check_controls("Zoë & Co. — ✓ 日本", TextKind::Line).is_ok());
        assert!(check_controls("\u{7f}\u{85}", TextKind::Line).is_ok(), "only C0 is refused");
        assert_eq!(
            check_controls("a\0b", TextKind::FreeText).unwrap_err().to_string(),
            "must not contain control characters (found U+0000)"
        );
    }
}

#[cfg(test)]
mod country_id_tests {
    use super::Country;

    #[test]
    fn country_ids_are_stable_and_invertible() {
        let gb = Country::parse("gb").unwrap();
        assert_eq!(gb.id(), 6 * 26 + 1 + 1);
        assert_eq!(Country::from_id(gb.id()), Some(gb));
        assert_eq!(Country::from_id(1).unwrap().as_str(), "AA");
        assert_eq!(Country::from_id(676).unwrap().as_str(), "ZZ");
        assert_eq!(Country::from_id(0), None);
        assert_eq!(Country::from_id(677), None);
    }
}
