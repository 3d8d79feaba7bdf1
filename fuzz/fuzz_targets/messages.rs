//! Any bytes as a message off the bus: decoding a `FeedItem`, `Article` or
//! `ClassifiedArticle` returns a value or an error, and a decoded value
//! encodes again (feed items and articles, which hold no floats, to the
//! same value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wirewatch_model::{Article, ClassifiedArticle, FeedItem};

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = serde_json::from_slice::<FeedItem>(data) {
        let encoded = serde_json::to_vec(&item).expect("a decoded feed item encodes");
        let again: FeedItem = serde_json::from_slice(&encoded).expect("and decodes again");
        assert_eq!(again, item);
    }
    if let Ok(article) = serde_json::from_slice::<Article>(data) {
        let encoded = serde_json::to_vec(&article).expect("a decoded article encodes");
        let again: Article = serde_json::from_slice(&encoded).expect("and decodes again");
        assert_eq!(again, article);
    }
    if let Ok(classified) = serde_json::from_slice::<ClassifiedArticle>(data) {
        serde_json::to_vec(&classified).expect("a decoded classified article encodes");
    }
});
