//! Articles per CPU-second on the bench's 5 KB English articles, measured
//! with the thread's own CPU time (Linux `/proc/thread-self/schedstat`) so
//! that other load on the machine does not distort the figure the way wall
//! time does. The criterion bench (`benches/classify.rs`) is the reference;
//! this is the quick check, on the same articles.
//!
//! ```text
//! cargo run --release -p wirewatch-classifier --example classify_throughput [-- ROUNDS [classify|scores_only]]
//! ```

use std::time::Instant;

use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

#[path = "../benches/support/articles.rs"]
mod articles;

fn cpu_nanos() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(200);
    let only = std::env::args().nth(2);
    let classifier = Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
    let id = ArticleId::from_key("throughput");
    for (set, articles) in [
        ("news", articles::news_articles()),
        ("dev_items", articles::dev_articles()),
    ] {
        // A yardstick for this machine: std's lowercasing of the same text.
        let cpu_start = cpu_nanos();
        let mut total = 0usize;
        for _ in 0..rounds {
            for (_, text) in &articles {
                total += std::hint::black_box(text.to_lowercase()).len();
            }
        }
        if let (Some(start), Some(end)) = (cpu_start, cpu_nanos()) {
            let per_article = (end - start) as f64 / (rounds * articles.len()) as f64;
            println!(
                "{set} yardstick: str::to_lowercase takes {:.1} us per article ({total} bytes)",
                per_article / 1000.0
            );
        }
        for (name, full) in [("classify", true), ("scores_only", false)] {
            if only.as_deref().is_some_and(|only| only != name) {
                continue;
            }
            let cpu_start = cpu_nanos();
            let wall_start = Instant::now();
            let mut flagged = 0usize;
            for _ in 0..rounds {
                for (title, text) in &articles {
                    let document = Document {
                        id: &id,
                        title,
                        text,
                        lang: Some("en"),
                    };
                    if full {
                        flagged += classifier.classify(&document).is_flagged() as usize;
                    } else {
                        flagged += classifier
                            .scores(&document)
                            .iter()
                            .any(|label| label.flagged) as usize;
                    }
                }
            }
            let count = (rounds * articles.len()) as f64;
            let wall = wall_start.elapsed().as_secs_f64();
            let cpu = match (cpu_start, cpu_nanos()) {
                (Some(start), Some(end)) => (end - start) as f64 / 1e9,
                _ => wall,
            };
            println!(
                "{set} {name}: {:.0} articles per cpu-second ({:.0} per wall-second, {flagged} flagged)",
                count / cpu,
                count / wall
            );
        }
    }
}
