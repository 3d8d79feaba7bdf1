//! The fetcher: polls feeds, finds new items, fetches article pages.
//!
//! - [`parse`]: feed bytes -> [`parse::ParsedFeed`] (RSS, Atom, JSON Feed;
//!   charset detection and repair of broken documents). Pure, no I/O.
//! - `http`, `state`, `schedule`: the network side (added with the pipeline).

pub mod parse;
