//! Fetch results by kind, counted by [`crate::HttpClient`] for the
//! binary's `/metrics`: what was asked for (a feed or a page) times how it
//! ended. Both sets are closed, so the counters' cardinality is fixed.
//! Per host too, for the first [`MAX_HOSTS`] hosts asked (the rest count
//! under [`OTHER_HOSTS`]), so a feed list of a million sites, or a feed
//! linking to a million hosts, still makes a bounded number of series.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::http::{FeedResponse, FetchError};

/// What a request fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetching {
    Feed,
    Page,
}

impl Fetching {
    pub const ALL: [Fetching; 2] = [Fetching::Feed, Fetching::Page];

    pub fn as_str(self) -> &'static str {
        match self {
            Fetching::Feed => "feed",
            Fetching::Page => "page",
        }
    }
}

/// How a fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchResult {
    /// A body was read (2xx).
    Ok,
    /// 304 Not Modified.
    NotModified,
    /// A 4xx answer.
    ClientError,
    /// A 5xx answer.
    ServerError,
    /// Any other status (an unfollowed 3xx, 1xx).
    OtherStatus,
    Timeout,
    /// Refused before connecting: the address guard, a scheme, robots.txt.
    Refused,
    /// Over the size cap.
    TooLarge,
    TooManyRedirects,
    /// Connection, TLS, DNS or file errors.
    Transport,
}

impl FetchResult {
    pub const ALL: [FetchResult; 10] = [
        FetchResult::Ok,
        FetchResult::NotModified,
        FetchResult::ClientError,
        FetchResult::ServerError,
        FetchResult::OtherStatus,
        FetchResult::Timeout,
        FetchResult::Refused,
        FetchResult::TooLarge,
        FetchResult::TooManyRedirects,
        FetchResult::Transport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FetchResult::Ok => "ok",
            FetchResult::NotModified => "not_modified",
            FetchResult::ClientError => "4xx",
            FetchResult::ServerError => "5xx",
            FetchResult::OtherStatus => "other_status",
            FetchResult::Timeout => "timeout",
            FetchResult::Refused => "refused",
            FetchResult::TooLarge => "too_large",
            FetchResult::TooManyRedirects => "too_many_redirects",
            FetchResult::Transport => "transport",
        }
    }

    pub fn of_error(error: &FetchError) -> FetchResult {
        match error {
            FetchError::Status { status, .. } => match status {
                400..=499 => FetchResult::ClientError,
                500..=599 => FetchResult::ServerError,
                _ => FetchResult::OtherStatus,
            },
            FetchError::TooLarge { .. } => FetchResult::TooLarge,
            FetchError::Timeout { .. } => FetchResult::Timeout,
            FetchError::Refused { .. } | FetchError::RobotsDisallowed { .. } => {
                FetchResult::Refused
            }
            FetchError::TooManyRedirects { .. } => FetchResult::TooManyRedirects,
            FetchError::Transport { .. } | FetchError::File { .. } => FetchResult::Transport,
        }
    }

    pub fn of_feed(result: &Result<FeedResponse, FetchError>) -> FetchResult {
        match result {
            Ok(FeedResponse::Fetched(_)) => FetchResult::Ok,
            Ok(FeedResponse::NotModified { .. }) => FetchResult::NotModified,
            Err(error) => FetchResult::of_error(error),
        }
    }
}

/// Hosts counted under their own name.
pub const MAX_HOSTS: usize = 100;

/// The name the hosts past [`MAX_HOSTS`] (and URLs without a host) count
/// under.
pub const OTHER_HOSTS: &str = "other";

/// Counts per (what, result), and per (host, result). Shared by the clones
/// of one client.
#[derive(Debug, Default)]
pub struct FetchTally {
    counts: [[AtomicU64; FetchResult::ALL.len()]; Fetching::ALL.len()],
    hosts: Mutex<BTreeMap<String, [u64; FetchResult::ALL.len()]>>,
}

impl FetchTally {
    pub fn count(&self, fetching: Fetching, result: FetchResult) {
        self.counts[fetching as usize][result as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a fetch of a URL on `host` (its own series while fewer than
    /// [`MAX_HOSTS`] hosts have one).
    pub fn count_on(&self, fetching: Fetching, host: Option<&str>, result: FetchResult) {
        self.count(fetching, result);
        let mut hosts = self.hosts.lock().expect("host tally lock");
        let name = match host {
            Some(host) if hosts.contains_key(host) => host,
            Some(host) if hosts.len() < MAX_HOSTS => host,
            _ => OTHER_HOSTS,
        };
        hosts.entry(name.to_owned()).or_default()[result as usize] += 1;
    }

    /// Every (host, result, count) with a count, by host.
    pub fn hosts(&self) -> Vec<(String, FetchResult, u64)> {
        let hosts = self.hosts.lock().expect("host tally lock");
        let mut out = Vec::new();
        for (host, counts) in hosts.iter() {
            for result in FetchResult::ALL {
                let count = counts[result as usize];
                if count > 0 {
                    out.push((host.clone(), result, count));
                }
            }
        }
        out
    }

    /// Every (what, result, count), zeros included (so a dashboard's
    /// series exist from the start).
    pub fn snapshot(&self) -> Vec<(Fetching, FetchResult, u64)> {
        let mut out = Vec::with_capacity(Fetching::ALL.len() * FetchResult::ALL.len());
        for fetching in Fetching::ALL {
            for result in FetchResult::ALL {
                let count = self.counts[fetching as usize][result as usize].load(Ordering::Relaxed);
                out.push((fetching, result, count));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_past_the_cap_count_as_other() {
        let tally = FetchTally::default();
        for index in 0..MAX_HOSTS + 5 {
            let host = format!("h{index}.example");
            tally.count_on(Fetching::Page, Some(&host), FetchResult::Ok);
        }
        tally.count_on(Fetching::Feed, Some("h0.example"), FetchResult::ServerError);
        tally.count_on(Fetching::Page, None, FetchResult::Refused);
        let hosts = tally.hosts();
        let named: std::collections::BTreeSet<&str> =
            hosts.iter().map(|(host, _, _)| host.as_str()).collect();
        assert_eq!(named.len(), MAX_HOSTS + 1, "the cap and other");
        assert!(hosts.contains(&("other".to_owned(), FetchResult::Ok, 5)));
        assert!(hosts.contains(&("other".to_owned(), FetchResult::Refused, 1)));
        assert!(hosts.contains(&("h0.example".to_owned(), FetchResult::ServerError, 1)));
        // The per-kind counts see every fetch.
        let pages_ok = tally
            .snapshot()
            .into_iter()
            .find(|(fetching, result, _)| *fetching == Fetching::Page && *result == FetchResult::Ok)
            .map(|(_, _, count)| count);
        assert_eq!(pages_ok, Some(MAX_HOSTS as u64 + 5));
    }

    #[test]
    fn errors_are_counted_under_their_kind() {
        let tally = FetchTally::default();
        let status = |status| FetchError::Status {
            url: "u".into(),
            status,
            retry_after: None,
        };
        for error in [
            status(404),
            status(503),
            status(302),
            FetchError::Timeout { url: "u".into() },
            FetchError::Refused {
                url: "u".into(),
                reason: "private address".into(),
            },
        ] {
            tally.count(Fetching::Page, FetchResult::of_error(&error));
        }
        tally.count(Fetching::Feed, FetchResult::NotModified);
        let counted: Vec<(&str, &str, u64)> = tally
            .snapshot()
            .into_iter()
            .filter(|(_, _, count)| *count > 0)
            .map(|(fetching, result, count)| (fetching.as_str(), result.as_str(), count))
            .collect();
        assert_eq!(
            counted,
            [
                ("feed", "not_modified", 1),
                ("page", "4xx", 1),
                ("page", "5xx", 1),
                ("page", "other_status", 1),
                ("page", "timeout", 1),
                ("page", "refused", 1),
            ]
        );
        assert_eq!(tally.snapshot().len(), 20);
    }
}
