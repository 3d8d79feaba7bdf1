//! Shows why a page came out as it did: `inspect FILE.html "text on the page"`
//! prints the ancestors of the text with their exclusion, pruning and score,
//! the top candidates and the container chosen.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, needle] = args.as_slice() else {
        eprintln!("usage: inspect FILE.html NEEDLE");
        std::process::exit(2);
    };
    let body =
        std::fs::read(file).unwrap_or_else(|error| panic!("cannot read html file {file}: {error}"));
    let decoded = wirewatch_cleaner::charset::decode(&body, None, None);
    let document = wirewatch_cleaner::dom::parse(&decoded.text);
    let metadata = wirewatch_cleaner::meta::collect(&document);
    let title = metadata.title.or(metadata.html_title);
    print!(
        "{}",
        wirewatch_cleaner::extract::explain(
            &document,
            title.as_deref(),
            &metadata.summaries,
            needle
        )
    );
}
