//! What commands print: aligned tables and key-value blocks for people, the API's `data` as JSON
//! for scripts (`--json`).

use std::fmt::Display;
use std::io::Write;

use serde::Serialize;

/// Columns padded to their widest cell, two spaces apart.
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self { rows: vec![headers.iter().map(|h| (*h).to_owned()).collect()] }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| self.rows.iter().filter_map(|r| r.get(i)).map(|c| c.chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    pub fn print(&self) {
        print_text(&self.render());
    }
}

/// `label: value` lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) {
    let width = pairs.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (label, value) in pairs {
        out.push_str(&format!("{:<width$} {value}\n", format!("{label}:")));
    }
    print_text(&out);
}

/// A value as the API sends it, for `--json`. Through `serde_json::Value`, whose objects keep their
/// keys sorted, so the output reads the same whichever way the value was made.
pub fn json<T: Serialize + ?Sized>(value: &T) {
    let text = serde_json::to_value(value)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot encode the answer as JSON: {e}\"}}"));
    print_text(&format!("{text}\n"));
}

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub fn print_text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// A value that may be absent, or `-`.
pub fn or_dash<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| value.to_string())
}

/// A list of strings joined with commas, or `-`.
pub fn joined(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

/// A plan limit: `-1` is unlimited.
pub fn limit(value: Option<i64>) -> String {
    match value {
        Some(-1) => "unlimited".to_owned(),
        Some(n) => n.to_string(),
        None => "-".to_owned(),
    }
}
