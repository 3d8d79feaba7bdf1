//! Any text as `wirewatch.toml` and, after a line `#--`, as the feed list
//! it names (the seed corpus joins config/*.toml and a feeds.toml that
//! way). Loading must return a config or an error, never panic, and every
//! line of the error names `file:line:col` inside the file it blames.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

// The parser lives in the binary crate; compiled here as a module so the
// workspace keeps its shape. Only part of it is called from this target.
#[allow(dead_code)]
#[path = "../../crates/wirewatch/config.rs"]
mod config;

/// Where the config "is": a directory that does not exist, so relative
/// paths in the input resolve to nothing on this machine.
const CONFIG_PATH: &str = "/nonexistent-wirewatch-fuzz/wirewatch.toml";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (config_text, feeds_text) = text.split_once("\n#--\n").unwrap_or((text.as_ref(), ""));
    let config_path = Path::new(CONFIG_PATH);
    // Every feed list the config names reads as the second part.
    let text_of = |file: &Path| {
        if file == config_path {
            config_text
        } else {
            feeds_text
        }
    };
    let Err(error) = config::Config::load_with(config_path, |file| Ok(text_of(file).to_owned()))
    else {
        return;
    };
    assert!(!error.problems.is_empty(), "an error with no problem in it");
    for problem in &error.problems {
        let file_text = text_of(&problem.file);
        let lines: Vec<&str> = file_text.split('\n').collect();
        assert!(
            (1..=lines.len()).contains(&problem.line),
            "line outside {}: {problem}",
            problem.file.display()
        );
        let line_chars = lines[problem.line - 1].chars().count();
        assert!(
            (1..=line_chars + 1).contains(&problem.column),
            "column outside line {} of {}: {problem}",
            problem.line,
            problem.file.display()
        );
        assert!(!problem.message.is_empty(), "no message: {problem}");
        assert!(
            !problem.message.contains('\n'),
            "a message over several lines leaves lines that name no file:line:col: {problem}"
        );
    }
});
