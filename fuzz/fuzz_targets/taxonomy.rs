//! Any text as the taxonomy directory: files separated by a line `#--`
//! (the seed corpus joins config/taxonomy/*.toml that way). Building must
//! return a taxonomy or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirewatch_classifier::Taxonomy;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let sources = text
        .split("\n#--\n")
        .enumerate()
        .map(|(index, source)| (format!("file{index}.toml"), source.to_string()));
    let _ = Taxonomy::from_sources(sources);
});
