//! The text `hearth skills list` prints: one row per skill (name, source,
//! status, description), under it the reasons a skill is missing and the
//! copies it hides, then the files that could not be loaded.

use std::fmt::Write;

use super::catalog::{SkillCatalog, one_line};

/// Longest description shown in the table.
const MAX_DESCRIPTION_CHARS: usize = 60;

/// The catalog as a plain-text table for a terminal.
pub fn render_list(catalog: &SkillCatalog) -> String {
    let mut out = String::new();
    if catalog.skills().is_empty() {
        out.push_str("No skills found.\n");
        if !catalog.roots().is_empty() {
            out.push_str("Looked in:\n");
            for root in catalog.roots() {
                let _ = writeln!(out, "  {:<9}  {}", root.source, root.path.display());
            }
        }
    } else {
        let rows: Vec<[String; 4]> = catalog
            .skills()
            .iter()
            .map(|skill| {
                let status = if skill.is_ready() { "ready" } else { "missing" };
                [
                    skill.name.clone(),
                    skill.source.to_string(),
                    status.to_owned(),
                    one_line(&skill.description, MAX_DESCRIPTION_CHARS),
                ]
            })
            .collect();
        let header = ["NAME", "SOURCE", "STATUS", "DESCRIPTION"].map(str::to_owned);
        let mut widths = [0usize; 3];
        for row in std::iter::once(&header).chain(&rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        write_row(&mut out, &header, &widths);
        for (row, skill) in rows.iter().zip(catalog.skills()) {
            write_row(&mut out, row, &widths);
            // Reasons go on their own lines: a skill can miss several
            // things, and a wide column would push the descriptions away.
            for reason in skill.gate.reasons() {
                let _ = writeln!(out, "    - {reason}");
            }
            for hidden in &skill.shadowed {
                let _ = writeln!(out, "    hides {}", hidden.display());
            }
        }
        let ready = catalog.ready().count();
        let _ = writeln!(out, "\n{ready} of {} skills ready.", catalog.skills().len());
    }
    if !catalog.problems().is_empty() {
        out.push_str("\nProblems:\n");
        for problem in catalog.problems() {
            let _ = writeln!(out, "  {}: {}", problem.path.display(), problem.error);
        }
    }
    out
}

fn write_row(out: &mut String, row: &[String; 4], widths: &[usize; 3]) {
    for (cell, width) in row.iter().zip(widths) {
        let pad = width - cell.chars().count();
        let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
    }
    let _ = writeln!(out, "{}", row[3]);
}
