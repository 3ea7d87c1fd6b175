//! CSV text for the dashboard's exports (RFC 4180): a field is quoted when it holds a
//! comma, a quote or a line break; a text field that a spreadsheet would run as a
//! formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed
//! with `'`. Numbers are written as they are.

/// A CSV document built line by line.
#[derive(Default)]
pub struct Csv {
    out: String,
}

/// One field of a line.
pub enum Field<'a> {
    /// Text from users or partners (names, references): guarded against formulas.
    Text(&'a str),
    /// A figure or code we wrote ourselves (amounts, dates, stages).
    Plain(&'a str),
}

impl Csv {
    pub fn line(&mut self, fields: &[Field<'_>]) {
        let cells: Vec<String> = fields
            .iter()
            .map(|f| match f {
                Field::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => quote(&format!("'{s}")),
                Field::Text(s) | Field::Plain(s) => quote(s),
            })
            .collect();
        self.out.push_str(&cells.join(","));
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut c = Csv::default();
        c.line(&[Field::Text("a,b"), Field::Text("say \"hi\""), Field::Text("=SUM(A1)"), Field::Plain("-12.50"), Field::Text("plain")]);
        assert_eq!(c.finish(), "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-12.50,plain\r\n");
    }
}
