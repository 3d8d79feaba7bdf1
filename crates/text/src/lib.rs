//! Text helpers that both readers of outside documents need, in one place:
//! the feed reader (`wirewatch-feed`) and the page cleaner
//! (`wirewatch-cleaner`) decide a document's charset the same way.
//!
//! - [`charset`]: an ASCII-compatible document's bytes to text, given the
//!   charset its headers or markup declare (each reader finds its own
//!   declaration: an XML prolog, a `<meta charset>`).

pub mod charset;
