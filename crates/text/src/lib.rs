//! Text helpers that both readers of outside documents need, in one place:
//! the feed reader (`wirewatch-feed`) and the page cleaner
//! (`wirewatch-cleaner`) decide a document's charset the same way.
//!
//! - [`charset`]: an ASCII-compatible document's bytes to text, given the
//!   charset its headers or markup declare (each reader finds its own
//!   declaration: an XML prolog, a `<meta charset>`).
//! - [`entities`]: the HTML standard's named character references.
//! - [`date`]: dates as feeds and pages write them (RFC 3339 and 822, and
//!   the dozens of other orders people use), read by token shape.
//! - [`markup`]: the other way: text escaped into the HTML and XML we
//!   write (the status page, OPML exports).

pub mod charset;
pub mod date;
pub mod entities;
pub mod markup;
