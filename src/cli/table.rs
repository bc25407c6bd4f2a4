//! Tables for people: what `monitor`, `download` and the `db` commands print on a terminal (or
//! with `--format table`), and the one place the JSON/YAML/table choice is written out.

use std::io::{self, Write};

use serde::Serialize;

use super::{CommandError, OutputFormat, stdout_error};
use crate::pipeline::Outcome;

/// Left-aligned columns separated by two spaces.
pub(super) fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// `2026-01-15T10:30:00.123456+00:00` → `2026-01-15 10:30:00` for tables.
pub(super) fn short_time(t: Option<&str>) -> String {
    match t {
        None => "-".into(),
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(d) => d
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            Err(_) => t.to_string(),
        },
    }
}

/// `value` as JSON or YAML (the table, when chosen, is `table`'s text), as the text to print.
pub(super) fn render<T: Serialize>(
    format: OutputFormat,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<String, CommandError> {
    let serialise = |e: String| CommandError::Io {
        context: "serialising the output",
        source: io::Error::other(e),
    };
    let mut text = match format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(value).map_err(|e| serialise(e.to_string()))?
        }
        OutputFormat::Yaml => {
            serde_saphyr::to_string(value).map_err(|e| serialise(e.to_string()))?
        }
        OutputFormat::Table => table(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Writes `text` to stdout.
pub(super) fn print(text: &str) -> Result<(), CommandError> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(stdout_error)
}

/// A run's outcome for people: one row per release found, held back or failed, with what
/// was downloaded and what verified it, then a summary line.
pub(super) fn outcome_table(outcome: &Outcome) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let downloads = outcome.downloads.as_ref();
    for r in &outcome.report.releases {
        let done = downloads.and_then(|d| {
            d.downloaded
                .iter()
                .find(|x| x.repository == r.repository && x.tag_name == r.tag_name)
        });
        let failed: Vec<String> = downloads
            .map(|d| {
                d.failed
                    .iter()
                    .filter(|f| f.repository == r.repository && f.tag_name == r.tag_name)
                    .map(|f| match &f.asset {
                        Some(a) => format!("{a}: {}", f.error),
                        None => f.error.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (files, verified) = match done {
            Some(d) => {
                let mut kinds: Vec<&str> = d.files.iter().map(|f| f.verified_by.as_str()).collect();
                kinds.sort_unstable();
                kinds.dedup();
                (d.files.len().to_string(), kinds.join(","))
            }
            None => ("-".to_string(), "-".to_string()),
        };
        rows.push(vec![
            r.repository.clone(),
            r.current_version.clone().unwrap_or_else(|| "-".into()),
            r.tag_name.clone(),
            files,
            verified,
            failed.join("; "),
        ]);
    }
    for p in &outcome.report.pending {
        rows.push(vec![
            p.repository.clone(),
            p.current_version.clone().unwrap_or_else(|| "-".into()),
            p.tag_name.clone(),
            "-".into(),
            "-".into(),
            format!("held until {}", p.eligible_at),
        ]);
    }
    for e in &outcome.report.errors {
        rows.push(vec![
            e.repository.clone(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            e.error.clone(),
        ]);
    }
    let mut out = table(
        &[
            "REPOSITORY",
            "HELD",
            "NEW",
            "FILES",
            "VERIFIED BY",
            "ERRORS",
        ],
        rows,
    );
    out.push_str(&format!(
        "\n{} repositories checked, {} new releases, {} failed\n",
        outcome.report.total_repositories_checked,
        outcome.report.new_releases_found,
        outcome.report.errors.len()
    ));
    out
}
