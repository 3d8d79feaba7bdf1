//! The fetcher: polls feeds, finds new items, fetches article pages.
//!
//! - [`parse`]: the feed reader, crate `wirewatch-feed` (feed bytes ->
//!   [`parse::ParsedFeed`]), re-exported under the name the fetcher uses.
//! - [`http`]: HTTP and `file://` fetching with timeouts, size limits,
//!   conditional GET, and the address guard on every untrusted hop.
//! - [`guard`]: which addresses untrusted URLs may reach, checked on the
//!   address actually connected to (a filtering resolver).
//! - [`robots`]: robots.txt rules for article pages. Pure.
//! - [`schedule`]: when to poll a feed next (advertised intervals, observed
//!   publishing rate, backoff, jitter). Pure.
//! - [`state`]: the on-disk store of feed status, validators and the
//!   seen-set.
//! - [`poll`]: one task per feed; new items go to an [`poll::ItemSink`] and
//!   are recorded as seen only once the sink accepted them. Pushed feed
//!   bodies take the same path.
//! - [`websub`]: WebSub decisions: hub discovery, push signatures, the
//!   answer to a hub's verification, lease renewal times. Pure.
//! - [`subscriber`]: WebSub subscriptions: requests to hubs (guarded),
//!   verification, pushes, renewal, and the fallback to polling.

pub mod guard;
pub mod http;
pub mod poll;
pub use wirewatch_feed as parse;
pub mod robots;
pub mod schedule;
pub mod state;
pub mod subscriber;
pub mod tally;
pub mod websub;

pub use guard::{is_non_public, Lookup, LookupFuture};
pub use http::{FeedResponse, FetchError, Fetched, HttpClient, HttpOptions, Validators};
pub use poll::{
    FeedSpec, FeedStateSink, FeedWatcher, ItemSink, PollOptions, PollOutcome, Poller, PushError,
};
pub use state::{FeedStatus, StateError, StateStore};
pub use subscriber::{Subscriber, SubscriberOptions, VerifyAnswer};
pub use tally::{FetchResult, FetchTally, Fetching};
