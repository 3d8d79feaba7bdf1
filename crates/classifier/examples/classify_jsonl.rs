//! Classifies a JSON-lines file the way `wirewatch classify --jsonl` does,
//! without building the daemon:
//!
//! ```text
//! cargo run -p wirewatch-classifier --example classify_jsonl -- IN.jsonl > OUT.jsonl
//! cargo run -p wirewatch-classifier --example classify_jsonl -- IN.jsonl --explain ID
//! ```
//!
//! `--taxonomy DIR` loads a taxonomy directory instead of the built-in one.

use std::io::{BufRead, BufReader, BufWriter};
use std::process::ExitCode;

use wirewatch_classifier::{classify_jsonl, Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_model::ArticleId;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = None;
    let mut taxonomy_dir = None;
    let mut explain = None;
    let mut index = 0;
    while index < args.len() {
        match args[index].as_str() {
            "--taxonomy" => {
                index += 1;
                taxonomy_dir = args.get(index).cloned();
            }
            "--explain" => {
                index += 1;
                explain = args.get(index).cloned();
            }
            other => input = Some(other.to_string()),
        }
        index += 1;
    }
    let Some(input) = input else {
        eprintln!("usage: classify_jsonl IN.jsonl [--taxonomy DIR] [--explain ID]");
        return ExitCode::from(2);
    };
    let taxonomy = match taxonomy_dir {
        Some(dir) => match Taxonomy::load_dir(dir.as_ref()) {
            Ok(taxonomy) => taxonomy,
            Err(error) => {
                eprintln!("{error}");
                return ExitCode::FAILURE;
            }
        },
        None => Taxonomy::builtin(),
    };
    let classifier =
        Classifier::new(taxonomy, ClassifierOptions::default()).expect("default options are valid");
    let file = match std::fs::File::open(&input) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("{input}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(wanted) = explain {
        for line in BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let id = value["id"].as_str().unwrap_or_default();
            if wanted != "all" && id != wanted {
                continue;
            }
            let article_id = ArticleId::from_raw(id).expect("non-empty id");
            let document = Document {
                id: &article_id,
                title: value["title"].as_str().unwrap_or_default(),
                text: value["text"].as_str().unwrap_or_default(),
                lang: value["lang"].as_str(),
            };
            let classification = classifier.classify(&document);
            println!("{}", classifier.explain(&document, &classification));
        }
        return ExitCode::SUCCESS;
    }
    let stdout = std::io::stdout();
    match classify_jsonl(
        &classifier,
        BufReader::new(file),
        BufWriter::new(stdout.lock()),
    ) {
        Ok(count) => {
            eprintln!("classified {count} articles");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{input}: {error}");
            ExitCode::FAILURE
        }
    }
}
