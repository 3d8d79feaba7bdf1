//! Kafka settings that exist without the `kafka` feature: the config reads
//! and checks them in every build, and the bus's defaults and the config's
//! are these same values, written once.

use std::time::Duration;

/// The producer's compression codec (`compression.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Lz4,
    Zstd,
    Snappy,
}

impl Compression {
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Snappy,
    ];

    /// librdkafka's name, which the config uses too.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
            Compression::Snappy => "snappy",
        }
    }

    pub fn parse(name: &str) -> Option<Compression> {
        Compression::ALL
            .into_iter()
            .find(|compression| compression.as_str() == name)
    }
}

/// Where the brokers are when nothing says.
pub const DEFAULT_BROKERS: &str = "127.0.0.1:9092";
pub const DEFAULT_CLIENT_ID: &str = "wirewatch";
pub const DEFAULT_COMPRESSION: Compression = Compression::Zstd;
/// How long the producer waits to fill a batch.
pub const DEFAULT_LINGER_MS: u32 = 5;
/// Longest a stage waits for in-flight messages when stopping.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Keys a stage remembers per input partition to skip repeats (see
/// `kafka_repeats`). A fetcher restart publishes its repeats within one
/// poll round of its feeds, far fewer messages than this; a story in two
/// feeds polled by two fetchers is skipped while its first copy is among
/// the partition's last this-many messages.
pub const DEFAULT_REPEAT_WINDOW: usize = 10_000;
/// The range `bus.kafka.repeat_window` accepts: each key costs about 200
/// bytes per partition a stage holds.
pub const REPEAT_WINDOW_RANGE: std::ops::RangeInclusive<usize> = 100..=1_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_codec_reads_back_from_its_name() {
        for compression in Compression::ALL {
            assert_eq!(Compression::parse(compression.as_str()), Some(compression));
        }
        assert_eq!(Compression::parse("brotli"), None);
    }
}
