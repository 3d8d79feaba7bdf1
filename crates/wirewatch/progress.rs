//! Progress on stderr for the long batch commands (`clean --batch`,
//! `classify --jsonl`): a bar when stderr is a terminal, nothing when it is
//! piped or redirected, so scripts and logs see only the summary line.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a bar counts.
pub enum Counting {
    /// Pages of a directory, their number known once it is listed.
    Pages,
    /// Bytes of the input, the total known for a file, not for stdin.
    Bytes,
}

/// A bar named `what`, drawn on stderr only when it is a terminal; its
/// length is set by the caller once known (a spinner until then).
pub fn bar(what: &str, counting: Counting) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let template = match counting {
        // Short enough for an 80-column terminal.
        Counting::Pages => "{prefix} [{bar:30}] {pos}/{len} pages, eta {eta}",
        Counting::Bytes => "{prefix} [{bar:30}] {bytes}/{total_bytes}, eta {eta}",
    };
    let style = ProgressStyle::with_template(template)
        .expect("the templates are valid")
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(None, target).with_style(style);
    bar.set_prefix(what.to_owned());
    bar
}
