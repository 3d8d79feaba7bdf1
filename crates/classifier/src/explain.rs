//! The human-readable account of a classification behind `--explain`.

use std::fmt::Write;

use wirewatch_model::{printable, printable_lines, Classification, EvidenceField, PartyRole};

use crate::{Classifier, Document};

/// Longest evidence snippet shown before it is shortened.
const SNIPPET_CHARS: usize = 160;

/// `negatives[label]` lists `(rule id, weight, matched words)`. Every piece
/// of the article in the account (title, snippets, names) has its control
/// characters escaped: the account goes to a terminal.
pub(crate) fn render(
    classifier: &Classifier,
    document: &Document<'_>,
    classification: &Classification,
    negatives: &[Vec<(String, f32, String)>],
) -> String {
    let mut out = String::new();
    let title: String = document.title.chars().take(100).collect();
    let _ = writeln!(
        out,
        "article {}: {}",
        classification.article_id,
        printable(&title)
    );
    for (index, label) in classification.labels.iter().enumerate() {
        let threshold = classifier.thresholds.get(index).copied().unwrap_or(1.0);
        let verdict = if label.flagged {
            "FLAGGED"
        } else {
            "not flagged"
        };
        let comparison = if label.flagged { ">=" } else { "<" };
        let _ = writeln!(
            out,
            "\n{}: {} (score {:.2} {} threshold {:.2})",
            label.label, verdict, label.score, comparison, threshold
        );
        let mut any = false;
        for evidence in classification
            .evidence
            .iter()
            .filter(|evidence| evidence.label == label.label)
        {
            any = true;
            let field = match evidence.field {
                EvidenceField::Title => "title",
                EvidenceField::Text => "text",
            };
            let mut snippet: String = evidence.text.chars().take(SNIPPET_CHARS).collect();
            if evidence.text.chars().count() > SNIPPET_CHARS {
                snippet.push_str("...");
            }
            let _ = writeln!(
                out,
                "  + {:.2} {} [{} {}..{}] \"{}\"",
                evidence.weight,
                evidence.rule.as_deref().unwrap_or("?"),
                field,
                evidence.start,
                evidence.end,
                printable(&snippet.replace('\n', " "))
            );
        }
        if let Some(negatives) = negatives.get(index) {
            for (rule, weight, words) in negatives {
                any = true;
                let _ = writeln!(
                    out,
                    "  - x{:.2} {} (negative cue \"{}\")",
                    1.0 - weight,
                    rule,
                    words
                );
            }
        }
        if !any {
            let _ = writeln!(out, "  no rule matched");
        }
    }
    let entities = &classification.entities;
    let _ = writeln!(out, "\nentities:");
    let lists = [
        ("countries", &entities.countries),
        ("organisations", &entities.organisations),
        ("people", &entities.people),
        ("weapon types", &entities.weapon_types),
    ];
    for (name, list) in lists {
        if !list.is_empty() {
            let _ = writeln!(out, "  {name}: {}", list.join(", "));
        }
    }
    for party in &entities.parties {
        let role = match party.role {
            PartyRole::Designated => "designated",
            PartyRole::Buyer => "buyer",
            PartyRole::Seller => "seller",
            PartyRole::Broker => "broker",
        };
        let _ = writeln!(out, "  party: {} ({role})", party.name);
    }
    for transfer in &entities.transfers {
        let _ = writeln!(
            out,
            "  transfer: {} -> {} ({})",
            transfer.supplier,
            transfer.recipient,
            transfer.weapons.join(", ")
        );
    }
    for listed in &entities.sanctions_list_matches {
        let _ = writeln!(
            out,
            "  on sanctions list {}: {} [{}]",
            listed.list,
            listed.name,
            listed.programs.join(", ")
        );
    }
    // The names and cues above come from the article too; newlines are the
    // account's own.
    printable_lines(&out).into_owned()
}
