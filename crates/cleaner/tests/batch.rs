//! `clean_dir` against real files in a scratch directory.
use std::fs;

use wirewatch_cleaner::clean_dir;

#[test]
fn writes_one_text_file_per_html_file() {
    let root = std::env::temp_dir().join(format!("wirewatch-cleaner-batch-{}", std::process::id()));
    let (html_dir, out_dir) = (root.join("html"), root.join("out"));
    fs::create_dir_all(&html_dir).unwrap();
    let article = "<p>Officials said the broker negotiated shipments of artillery shells and rockets over the past year.</p>";
    fs::write(
        html_dir.join("a1.html"),
        format!("<html><body><article>{article}</article></body></html>"),
    )
    .unwrap();
    fs::write(html_dir.join("b2.html"), "<html><body></body></html>").unwrap();
    fs::write(html_dir.join("notes.md"), "not a page").unwrap();

    let report = clean_dir(&html_dir, &out_dir).unwrap();
    assert_eq!((report.pages, report.empty), (2, 1));
    let text = fs::read_to_string(out_dir.join("a1.txt")).unwrap();
    assert!(text.starts_with("Officials said the broker"));
    assert_eq!(fs::read_to_string(out_dir.join("b2.txt")).unwrap(), "");
    assert!(!out_dir.join("notes.txt").exists());

    let missing = clean_dir(&root.join("nope"), &out_dir).unwrap_err();
    assert!(missing
        .to_string()
        .starts_with("cannot list html directory"));
    fs::remove_dir_all(&root).unwrap();
}
