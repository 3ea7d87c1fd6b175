//! The Standard Debt Collection Agreement a client signs on the onboarding page: a
//! versioned text file, read once at start.
//!
//! File format (UTF-8): the first line is `Version: <id>`, where the id is 1–64 ASCII
//! letters, digits, `.`, `_` or `-` (it names the download, `<id>.txt`, and is stored with
//! each signature). The rest is the text: paragraphs separated by blank lines, a line
//! starting with `#` is a heading. Pages show it escaped, never as HTML.
//!
//! Without `REFSHARE_AGREEMENT_FILE` the sample shipped in `crates/app/agreements/` is
//! used (embedded in the binary); it says it is a sample.

use std::fmt;
use std::path::Path;

/// The sample agreement, embedded so the binary works anywhere.
const SAMPLE: &str = include_str!("../agreements/SDCA-2026-01.md");

/// Largest agreement file accepted (bytes).
pub const MAX_AGREEMENT_BYTES: usize = 256 * 1024;

/// Longest version id.
const MAX_VERSION_CHARS: usize = 64;

/// One agreement text and its version.
#[derive(Clone, PartialEq, Eq)]
pub struct Agreement {
    version: String,
    /// The whole file, version line included: what the download serves.
    file: String,
    /// Byte offset of the text after the version line.
    body_start: usize,
}

/// A piece of the text as pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A `#` line, without its `#`s.
    Heading(String),
    /// Lines up to a blank line, joined by spaces.
    Paragraph(String),
}

impl fmt::Debug for Agreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Agreement").field("version", &self.version).field("bytes", &self.file.len()).finish()
    }
}

impl Agreement {
    /// The sample shipped with refshare (version `SDCA-2026-01`).
    pub fn sample() -> Agreement {
        Agreement::parse(SAMPLE).expect("the shipped sample agreement is valid")
    }

    /// Reads an agreement file; the error says why it cannot be used.
    pub fn load(path: &Path) -> Result<Agreement, String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.len() > MAX_AGREEMENT_BYTES as u64 {
            return Err(format!("`{}` is larger than {} KiB", path.display(), MAX_AGREEMENT_BYTES / 1024));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|_| format!("`{}` is not UTF-8 text", path.display()))?;
        Agreement::parse(&text).map_err(|e| format!("`{}`: {e}", path.display()))
    }

    /// Parses the file format of the module header.
    pub fn parse(text: &str) -> Result<Agreement, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.len() > MAX_AGREEMENT_BYTES {
            return Err(format!("the text is larger than {} KiB", MAX_AGREEMENT_BYTES / 1024));
        }
        if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(format!("the text contains the control character U+{:04X}", c as u32));
        }
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let version = first
            .trim_end_matches('\r')
            .strip_prefix("Version:")
            .map(str::trim)
            .ok_or("the first line must be `Version: <id>`, such as `Version: SDCA-2026-01`")?;
        if version.is_empty()
            || version.chars().count() > MAX_VERSION_CHARS
            || !version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            || version.starts_with('.')
        {
            return Err(format!("the version `{version}` must be 1–{MAX_VERSION_CHARS} letters, digits, `.`, `_` or `-`"));
        }
        if rest.trim().is_empty() {
            return Err("there is no text after the version line".into());
        }
        Ok(Agreement { version: version.to_string(), file: text.to_string(), body_start: text.len() - rest.len() })
    }

    /// Whether this is the shipped sample.
    pub fn is_sample(&self) -> bool {
        self.file == SAMPLE
    }

    /// The version id, stored with each signature.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The whole file as served for download.
    pub fn file_text(&self) -> &str {
        &self.file
    }

    /// The text after the version line.
    pub fn body(&self) -> &str {
        &self.file[self.body_start..]
    }

    /// Headings and paragraphs, in order.
    pub fn blocks(&self) -> Vec<Block> {
        let mut blocks = Vec::new();
        let mut paragraph: Vec<&str> = Vec::new();
        let flush = |paragraph: &mut Vec<&str>, blocks: &mut Vec<Block>| {
            if !paragraph.is_empty() {
                blocks.push(Block::Paragraph(paragraph.join(" ")));
                paragraph.clear();
            }
        };
        for line in self.body().lines().map(str::trim) {
            if line.is_empty() {
                flush(&mut paragraph, &mut blocks);
            } else if let Some(h) = line.strip_prefix('#') {
                flush(&mut paragraph, &mut blocks);
                let h = h.trim_start_matches('#').trim();
                if !h.is_empty() {
                    blocks.push(Block::Heading(h.to_string()));
                }
            } else {
                paragraph.push(line);
            }
        }
        flush(&mut paragraph, &mut blocks);
        blocks
    }
}

/// The agreement new signatures use, and earlier versions kept for download.
#[derive(Debug, Clone)]
pub struct Agreements {
    current: Agreement,
    earlier: Vec<Agreement>,
}

impl Agreements {
    /// `current` and the earlier versions; the same version twice with different texts is
    /// refused (a signed version must mean one text).
    pub fn new(current: Agreement, earlier: Vec<Agreement>) -> Result<Agreements, String> {
        let mut kept: Vec<Agreement> = Vec::new();
        for a in earlier {
            let same = std::iter::once(&current).chain(&kept).find(|k| k.version == a.version);
            match same {
                Some(k) if k.body().trim() == a.body().trim() => {}
                Some(_) => return Err(format!("two different texts have the version `{}`", a.version)),
                None => kept.push(a),
            }
        }
        Ok(Agreements { current, earlier: kept })
    }

    /// The current agreement alone.
    pub fn only(current: Agreement) -> Agreements {
        Agreements { current, earlier: Vec::new() }
    }

    /// What new signatures accept.
    pub fn current(&self) -> &Agreement {
        &self.current
    }

    /// The current or an earlier version.
    pub fn version(&self, version: &str) -> Option<&Agreement> {
        std::iter::once(&self.current).chain(&self.earlier).find(|a| a.version == version)
    }
}

/// Every `*.md` and `*.txt` file of a folder of earlier versions, in name order. Errors
/// name the file.
pub fn load_dir(dir: &Path) -> Result<Vec<Agreement>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the folder `{}`: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md" || x == "txt"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Agreement::load(p)).collect()
}

impl Default for Agreements {
    fn default() -> Agreements {
        Agreements::only(Agreement::sample())
    }
}

impl crate::App {
    /// The agreement new signatures accept.
    pub fn agreement(&self) -> &Agreement {
        self.config.agreements.current()
    }

    /// The current or a kept earlier version, for download and for showing what a client
    /// signed.
    pub fn agreement_version(&self, version: &str) -> Option<&Agreement> {
        self.config.agreements.version(version)
    }

    /// The platform as pages and mails name it.
    pub fn platform(&self) -> &crate::platform::Platform {
        &self.config.platform
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_valid_and_says_it_is_a_sample() {
        let a = Agreement::sample();
        assert_eq!(a.version(), "SDCA-2026-01");
        assert!(a.is_sample() && !Agreement::parse("Version: SDCA-2026-01\n\nOther.").unwrap().is_sample());
        assert!(a.body().to_lowercase().contains("sample"));
        assert!(matches!(a.blocks().first(), Some(Block::Heading(_))));
    }

    #[test]
    fn the_version_line_comes_first() {
        let a = Agreement::parse("Version: ACME-7\r\n\n# Terms\nOne\nline.\n\nTwo.\n").unwrap();
        assert_eq!(a.version(), "ACME-7");
        assert_eq!(a.blocks(), vec![Block::Heading("Terms".into()), Block::Paragraph("One line.".into()), Block::Paragraph("Two.".into())]);
        assert!(a.file_text().starts_with("Version: ACME-7"));
        for bad in [
            "# Terms\nVersion: X\n\nText",
            "Version:\n\nText",
            "Version: a/b\n\nText",
            "Version: ../x\n\nText",
            "Version: X",
            "Version: X\n\n  \n",
            "Version: X\n\nA\u{0}B",
        ] {
            assert!(Agreement::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_version_means_one_text() {
        let a = Agreement::parse("Version: V1\n\nFirst.").unwrap();
        let b = Agreement::parse("Version: V2\n\nSecond.").unwrap();
        let a_again = Agreement::parse("Version: V1\n\nChanged.").unwrap();
        let all = Agreements::new(b.clone(), vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(all.current().version(), "V2");
        assert_eq!(all.version("V1"), Some(&a));
        assert_eq!(all.version("V3"), None);
        assert!(Agreements::new(b, vec![a, a_again]).is_err());
    }
}
