//! Audit exports as CSV or JSON Lines, encoded batch by batch.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return) are prefixed with `'`, so an attacker-chosen value (a display name, a
//! host event's target) cannot become a formula when the export is opened.

use serde::Deserialize;
use tenantry_core::service::audit::AuditEntry;
use utoipa::ToSchema;

use crate::views::AuditEventView;

#[derive(Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Jsonl => "application/jsonl",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Jsonl => "jsonl",
        }
    }

    /// What goes before the first row.
    pub fn header(self) -> Vec<u8> {
        match self {
            Self::Csv => csv_lines([HEADER.map(str::to_owned)]),
            Self::Jsonl => Vec::new(),
        }
    }

    pub fn encode(self, entries: &[AuditEntry]) -> Vec<u8> {
        match self {
            Self::Csv => csv_lines(entries.iter().map(csv_cells)),
            Self::Jsonl => {
                let mut out = Vec::with_capacity(entries.len() * 256);
                for entry in entries {
                    serde_json::to_writer(&mut out, &AuditEventView::from(entry.clone())).expect("views serialise");
                    out.push(b'\n');
                }
                out
            }
        }
    }
}

const HEADER: [&str; 11] = [
    "id",
    "occurred_at",
    "actor_type",
    "actor_id",
    "action",
    "target_type",
    "target_id",
    "ip",
    "user_agent",
    "metadata",
    "hash",
];

fn csv_cells(entry: &AuditEntry) -> [String; 11] {
    let event = &entry.event;
    [
        event.id.to_string(),
        event.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        event.actor.kind.clone(),
        event.actor.id.clone(),
        event.action.clone(),
        event.target.kind.clone(),
        event.target.id.clone(),
        event.ip.clone().unwrap_or_default(),
        event.user_agent.clone().unwrap_or_default(),
        event.metadata.to_string(),
        entry.hash.clone(),
    ]
}

fn csv_lines(rows: impl IntoIterator<Item = [String; 11]>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for cells in rows {
        for cell in &cells {
            writer.write_field(neutralise(cell).as_bytes()).expect("writing to memory cannot fail");
        }
        // An empty record after the fields ends the line.
        writer.write_record(std::iter::empty::<&[u8]>()).expect("writing to memory cannot fail");
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

/// `'=1+2` for `=1+2`: the cell shows as text in a spreadsheet.
fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_quotes_escaped() {
        let cells = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "a,b", "plain", "line\nbreak", "\tx", "", "{}", "h"];
        let line = String::from_utf8(csv_lines([cells.map(str::to_owned)])).unwrap();
        assert_eq!(line, "\"'=HYPERLINK(\"\"x\"\")\",'+1,'-2,'@SUM(A1),\"a,b\",plain,\"line\nbreak\",'\tx,,{},h\r\n");
    }
}
