//! `wirewatch`: the command line. Subcommands map onto the pipeline's stages
//! so each can be run alone for debugging and scripting; `run` wires them
//! together on the configured bus (see `pipeline.rs` for the data flow).

mod config;
mod dashboard;
mod embeddings;
mod feed_status;
mod feeds_cli;
mod journal;
mod metrics;
mod pipeline;
mod progress;
mod run;
mod semantic_cli;
#[cfg(feature = "kafka")]
mod shared_feeds;
mod webhook;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use wirewatch_classifier::{Classifier, ClassifierOptions, Document, Taxonomy};
use wirewatch_fetcher::state::{self, StateError, StateErrorKind};
use wirewatch_model::ArticleId;

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "wirewatch",
    version,
    about = "Watches news feeds and flags stories about arms transfers and sanctions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline until SIGINT/SIGTERM (or, with --once, one poll of
    /// every feed)
    Run {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
        /// Poll every feed once, drain the pipeline, exit
        #[arg(long)]
        once: bool,
        /// Stages to run in this process: any of fetch, clean, classify
        /// (comma separated); all by default
        #[arg(long, value_delimiter = ',', value_enum)]
        stages: Vec<run::Stage>,
        /// Print flagged stories on stdout as JSON lines even on a
        /// terminal (output.stdout_format = "json")
        #[arg(long)]
        json: bool,
    },
    /// Validate a config and its feed files
    Check {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
    /// Classify text or HTML (FILE or - for stdin), or JSON lines with --jsonl
    Classify {
        /// Text or HTML file; - or nothing reads stdin
        file: Option<PathBuf>,
        /// Read JSON lines with id, title, text; write {id, labels, scores}
        #[arg(long, value_name = "FILE")]
        jsonl: Option<PathBuf>,
        /// Print a human-readable explanation instead of JSON
        #[arg(long)]
        explain: bool,
        /// Taxonomy, thresholds, sanctions list and embeddings backend
        /// from this config
        #[arg(long)]
        config: Option<PathBuf>,
        /// Ignore the config's [classifier.embeddings]: the rules alone
        #[arg(long)]
        rules_only: bool,
    },
    /// Fit a semantic head (weights, combination, thresholds) from labelled
    /// JSON lines, using the config's embeddings backend (or the local one)
    Train {
        /// Labelled JSON lines (id, title, text, labels): fits the sentence
        /// weights
        #[arg(long, value_name = "FILE")]
        jsonl: PathBuf,
        /// Labelled JSON lines to fit the combination with the rules and
        /// the thresholds on (default: the --jsonl items)
        #[arg(long, value_name = "FILE")]
        combine_on: Option<PathBuf>,
        /// Taxonomy and embeddings backend from this config
        #[arg(long)]
        config: Option<PathBuf>,
        /// Write the head here (default: stdout)
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Clean an HTML page (file or URL) to article JSON, or a directory with --batch
    Clean {
        /// HTML file or http(s) URL
        target: Option<String>,
        /// Write OUT_DIR/<id>.txt for every HTML_DIR/<id>.html
        #[arg(long, num_args = 2, value_names = ["HTML_DIR", "OUT_DIR"])]
        batch: Option<Vec<PathBuf>>,
    },
    /// Fetch feeds once and print new items, or parse a directory of feed files
    Fetch {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
        /// Poll every feed once and print the items as JSON lines
        #[arg(long)]
        once: bool,
        /// Parse every file in DIR as a feed (no network)
        #[arg(long, value_name = "DIR")]
        parse_dir: Option<PathBuf>,
        /// With --parse-dir: one JSON line per file (the feed bench format)
        #[arg(long)]
        jsonl: bool,
    },
    /// Show each feed's status from the state store
    Status {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
    /// Ask the running daemons on this config's state directory to reload
    /// (SIGHUP): feed list, taxonomy, thresholds
    Reload {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
    /// Feed lists: import or export OPML, discover a site's feeds, add one
    Feeds {
        #[command(subcommand)]
        action: FeedsAction,
    },
    /// Manage Kafka topics
    Topics {
        #[command(subcommand)]
        action: TopicsAction,
    },
    /// Check or repair the fetcher's state file (stop the daemon first)
    State {
        #[command(subcommand)]
        action: StateAction,
    },
}

#[derive(Subcommand)]
enum FeedsAction {
    /// Read an OPML file (as Miniflux, FreshRSS and other readers export)
    /// and print its feeds as [[feed]] tables, or append them to a feed file
    Import {
        opml: PathBuf,
        /// Feed file to append to (made if missing); feeds it lists are skipped
        #[arg(long, value_name = "FEEDS_TOML")]
        into: Option<PathBuf>,
    },
    /// Print the configured feeds as OPML 2.0
    Export {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
    /// Find the feeds a site offers (announced by the page, else at the
    /// usual paths), check each, and print them as [[feed]] tables
    Discover {
        url: String,
        /// Use this config's HTTP settings (user agent, limits, allowances)
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Discover a site's feed and append the first one to a feed file
    Add {
        url: String,
        #[arg(long, value_name = "FEEDS_TOML")]
        into: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write the feed files' feeds to the shared feed table on Kafka
    /// (topics.feeds), which fetchers with fetcher.feed_list = "kafka"
    /// split between them; feeds the files no longer list are removed
    Sync {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum StateAction {
    /// Check every page of the state file; exit status 1 when it is damaged
    Check {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
    /// Move a damaged state file aside and salvage what it still holds
    Repair {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum TopicsAction {
    /// Create every topic of the config (idempotent)
    Create {
        #[arg(long, default_value = "config/wirewatch.toml")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            if let Some(hint) = hint(&error) {
                eprintln!("{hint}");
            }
            ExitCode::FAILURE
        }
    }
}

/// What to do about an error, when there is something to say.
fn hint(error: &anyhow::Error) -> Option<String> {
    let state_error = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<StateError>())?;
    (state_error.kind == StateErrorKind::Damaged).then(|| {
        format!(
            "wirewatch cannot use this file. Stop every wirewatch process that uses it, then run \
             `wirewatch state repair --config <your config>`: it moves the file aside (to \
             {}.damaged-<time>) and copies the seen-set entries and feed statuses it can still \
             read into a fresh file. Or move the file aside yourself to start with an empty \
             seen-set (items younger than fetcher.max_item_age are then emitted again)",
            state_error.path.display()
        )
    })
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run {
            config,
            once,
            stages,
            json,
        } => {
            let mut config = load_config(&config)?;
            if json {
                config.output.stdout_format = config::StdoutFormat::Json;
            }
            run::init_logging(&config);
            let stages = run::StageSet::of(&stages);
            runtime()?.block_on(run::run(config, stages, once))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => {
            let loaded = load_config(&config)?;
            let classifier = build_classifier(Some(&loaded))?;
            loaded
                .output
                .check_labels(&classifier_labels(&classifier))
                .map_err(invalid_config)?;
            println!(
                "{}: ok ({} feeds from {} file(s), {} labels, bus {:?})",
                config.display(),
                loaded.feeds.len(),
                loaded.feed_files.len(),
                classifier_labels(&classifier).len(),
                loaded.bus
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Classify {
            file,
            jsonl,
            explain,
            config,
            rules_only,
        } => {
            let config = config.map(|path| load_config(&path)).transpose()?;
            let classifier = build_classifier(config.as_ref())?;
            let semantic = match &config {
                Some(config) if !rules_only => {
                    let metrics = std::sync::Arc::new(metrics::Metrics::default());
                    build_semantic(config, &classifier, metrics)?
                }
                _ => None,
            };
            match (jsonl, semantic) {
                (Some(jsonl), None) => classify_jsonl(&classifier, &jsonl),
                (Some(jsonl), Some(semantic)) => runtime()?.block_on(semantic_cli::classify_jsonl(
                    &classifier,
                    &semantic,
                    &jsonl,
                )),
                (None, semantic) => {
                    classify_one(&classifier, semantic.as_deref(), file.as_deref(), explain)
                }
            }
        }
        Command::Train {
            jsonl,
            combine_on,
            config,
            out,
        } => {
            let config = config.map(|path| load_config(&path)).transpose()?;
            let classifier = build_classifier(config.as_ref())?;
            let embeddings = config
                .as_ref()
                .and_then(|config| config.classifier.embeddings.clone())
                .unwrap_or_else(config::EmbeddingsConfig::local);
            runtime()?.block_on(semantic_cli::train(
                &classifier,
                embeddings,
                &jsonl,
                combine_on.as_deref(),
                out.as_deref(),
            ))
        }
        Command::Clean { target, batch } => {
            if let Some(dirs) = batch {
                let bar = progress::bar("clean", progress::Counting::Pages);
                let report = wirewatch_cleaner::clean_dir_with_progress(
                    &dirs[0],
                    &dirs[1],
                    &mut |done, total| {
                        bar.set_length(total as u64);
                        bar.set_position(done as u64);
                    },
                )
                .with_context(|| format!("cleaning {}", dirs[0].display()))?;
                bar.finish();
                eprintln!(
                    "cleaned {} pages ({:.1} MB) in {:.0} ms; {} with no text",
                    report.pages,
                    report.bytes as f64 / 1e6,
                    report.clean_time.as_secs_f64() * 1000.0,
                    report.empty
                );
                return Ok(ExitCode::SUCCESS);
            }
            let Some(target) = target else {
                bail!("give an HTML file or URL, or --batch HTML_DIR OUT_DIR");
            };
            runtime()?.block_on(run::clean_one(&target))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch {
            config,
            once,
            parse_dir,
            jsonl,
        } => {
            if let Some(dir) = parse_dir {
                return parse_dir_command(&dir, jsonl);
            }
            if !once {
                bail!("fetch needs --once (poll every feed once) or --parse-dir DIR");
            }
            let config = load_config(&config)?;
            run::init_logging(&config);
            runtime()?.block_on(run::fetch_once(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { config } => {
            let config = load_config(&config)?;
            run::print_status(&config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reload { config } => {
            let config = load_config(&config)?;
            let signalled = run::signal_reload(&config)?;
            eprintln!(
                "asked {signalled} wirewatch process(es) to reload; their logs say what changed"
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Feeds { action } => {
            match action {
                FeedsAction::Import { opml, into } => feeds_cli::import(&opml, into.as_deref())?,
                FeedsAction::Export { config } => feeds_cli::export(&config)?,
                FeedsAction::Discover { url, config } => {
                    let found =
                        runtime()?.block_on(feeds_cli::discover(&url, config.as_deref()))?;
                    feeds_cli::print_discovered(&url, &found)?;
                }
                FeedsAction::Add { url, into, config } => {
                    runtime()?.block_on(feeds_cli::add(&url, &into, config.as_deref()))?;
                }
                FeedsAction::Sync { config } => {
                    runtime()?.block_on(run::sync_feeds(&load_config(&config)?))?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Topics {
            action: TopicsAction::Create { config },
        } => {
            let config = load_config(&config)?;
            run::init_logging(&config);
            runtime()?.block_on(run::create_topics(&config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::State {
            action: StateAction::Check { config },
        } => state_check(&load_config(&config)?),
        Command::State {
            action: StateAction::Repair { config },
        } => state_repair(&load_config(&config)?),
    }
}

/// `wirewatch state check`: 0 when the daemon can start on the file as it
/// is, 1 when it is damaged.
fn state_check(config: &Config) -> anyhow::Result<ExitCode> {
    let path = state::state_file(&config.state_dir);
    let file = path.display();
    match state::check(&config.state_dir)? {
        state::CheckReport::Missing => {
            println!("{file}: no state file yet (the first start creates one)");
            Ok(ExitCode::SUCCESS)
        }
        state::CheckReport::Readable(state::Integrity::Sound) => {
            println!("{file}: sound");
            Ok(ExitCode::SUCCESS)
        }
        state::CheckReport::Readable(state::Integrity::RolledBack) => {
            println!(
                "{file}: damaged, but redb repairs it by going back to its last sound commit \
                 (the next start does this; `wirewatch state repair` keeps a copy first)"
            );
            Ok(ExitCode::FAILURE)
        }
        state::CheckReport::Damaged(detail) => {
            println!("{file}: damaged: {detail}");
            println!(
                "stop wirewatch, then run `wirewatch state repair --config {}` to move it aside \
                 and keep what can still be read",
                config.path.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `wirewatch state repair`: a fresh state file from what the damaged one
/// still holds; the damaged one is kept beside it.
fn state_repair(config: &Config) -> anyhow::Result<ExitCode> {
    let path = state::state_file(&config.state_dir);
    let report = state::repair(&config.state_dir)?;
    let Some(damaged_file) = &report.damaged_file else {
        println!("{}: sound, nothing to repair", path.display());
        return Ok(ExitCode::SUCCESS);
    };
    let how = match report.recovery {
        state::Recovery::LastSoundCommit => "from its last sound commit",
        _ => "by scanning its pages",
    };
    println!("moved the damaged file to {}", damaged_file.display());
    println!(
        "salvaged {} seen-set entries and {} feed statuses {how} into a fresh {}",
        report.seen_entries,
        report.feed_statuses,
        path.display()
    );
    println!(
        "feeds without a status are polled at the next start; items younger than \
         fetcher.max_item_age whose seen entry was lost are emitted again"
    );
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(invalid_config)
}

fn invalid_config(error: config::ConfigError) -> anyhow::Error {
    anyhow::anyhow!("invalid configuration:\n{error}")
}

/// The classifier from a config's taxonomy settings, or the built-in one.
pub fn build_classifier(config: Option<&Config>) -> anyhow::Result<Classifier> {
    let Some(config) = config else {
        return Ok(Classifier::new(
            Taxonomy::builtin(),
            ClassifierOptions::default(),
        )?);
    };
    let taxonomy = match &config.classifier.taxonomy_dir {
        Some(dir) => Taxonomy::load_dir(dir)?,
        None => Taxonomy::builtin(),
    };
    let mut options = ClassifierOptions {
        thresholds: config.classifier.thresholds.clone().into_iter().collect(),
        ..ClassifierOptions::default()
    };
    if let Some(list) = &config.classifier.sanctions_list {
        options.sanctions_list = Some(
            wirewatch_classifier::SanctionsList::load_ofac_csv(list)
                .with_context(|| format!("loading sanctions list {}", list.display()))?,
        );
    }
    Ok(Classifier::new(taxonomy, options)?)
}

/// The semantic layer when the config has `[classifier.embeddings]`.
pub fn build_semantic(
    config: &Config,
    classifier: &Classifier,
    metrics: std::sync::Arc<metrics::Metrics>,
) -> anyhow::Result<Option<std::sync::Arc<embeddings::SemanticLayer>>> {
    let Some(embeddings) = &config.classifier.embeddings else {
        return Ok(None);
    };
    let layer =
        embeddings::SemanticLayer::new(embeddings.clone(), &classifier_labels(classifier), metrics)
            .context("classifier.embeddings")?;
    Ok(Some(std::sync::Arc::new(layer)))
}

fn classifier_labels(classifier: &Classifier) -> Vec<String> {
    classifier.taxonomy().labels().map(str::to_owned).collect()
}

fn classify_jsonl(classifier: &Classifier, path: &Path) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let output = std::io::BufWriter::new(stdout.lock());
    let bar = progress::bar("classify", progress::Counting::Bytes);
    let count = if path == Path::new("-") {
        let input = std::io::BufReader::new(bar.wrap_read(std::io::stdin().lock()));
        wirewatch_classifier::classify_jsonl(classifier, input, output)?
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        if let Ok(metadata) = file.metadata() {
            bar.set_length(metadata.len());
        }
        let input = std::io::BufReader::new(bar.wrap_read(file));
        wirewatch_classifier::classify_jsonl(classifier, input, output)
            .with_context(|| format!("classifying {}", path.display()))?
    };
    bar.finish();
    eprintln!("classified {count} records");
    Ok(ExitCode::SUCCESS)
}

fn classify_one(
    classifier: &Classifier,
    semantic: Option<&embeddings::SemanticLayer>,
    file: Option<&Path>,
    explain: bool,
) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    match file {
        None => std::io::stdin().read_to_end(&mut bytes)?,
        Some(path) if path == Path::new("-") => std::io::stdin().read_to_end(&mut bytes)?,
        Some(path) => {
            bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            bytes.len()
        }
    };
    let looks_like_html = {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_lowercase();
        head.contains("<html") || head.contains("<!doctype html") || head.contains("<body")
    };
    let (title, text) = if looks_like_html {
        let cleaned = wirewatch_cleaner::clean(&wirewatch_cleaner::PageInput {
            body: &bytes,
            content_type: None,
            url: None,
        });
        (cleaned.title.unwrap_or_default(), cleaned.text)
    } else {
        // Plain text: the first non-empty line is the title.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut lines = text.lines();
        let title = lines
            .by_ref()
            .find(|line| !line.trim().is_empty())
            .unwrap_or_default()
            .trim()
            .to_owned();
        let rest: Vec<&str> = lines.collect();
        (title, rest.join("\n").trim().to_owned())
    };
    let key = file.map_or_else(|| "stdin".to_owned(), |path| path.display().to_string());
    let id = ArticleId::from_key(&key);
    let document = Document {
        id: &id,
        title: &title,
        text: &text,
        lang: None,
    };
    let mut classification = classifier.classify(&document);
    if let Some(semantic) = semantic {
        runtime()?.block_on(semantic.apply(&document, &mut classification));
    }
    let mut stdout = std::io::stdout().lock();
    if explain {
        writeln!(stdout, "{}", classifier.explain(&document, &classification))?;
        if let Some(semantic) = semantic {
            // The explanation above prints the taxonomy's thresholds; with
            // the semantic layer the scores are the combined ones and the
            // head's thresholds decide.
            let thresholds: Vec<String> = semantic
                .head()
                .labels
                .iter()
                .map(|label| format!("{} {}", label.name, label.threshold))
                .collect();
            writeln!(
                stdout,
                "semantic layer: scores combine rules and embeddings; the head's thresholds apply: {}",
                thresholds.join(", ")
            )?;
        }
    } else {
        serde_json::to_writer_pretty(&mut stdout, &classification)?;
        writeln!(stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_dir_command(dir: &Path, jsonl: bool) -> anyhow::Result<ExitCode> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_file())
        .filter(|path| path.file_name().is_some_and(|name| name != "manifest.json"))
        .collect();
    files.sort();
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut parsed, mut failed) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        // No base URL: a file on disk has no address its relative links
        // could resolve against (the bench's reference leaves them as is).
        let result = wirewatch_fetcher::parse::parse_feed(&bytes, None, None);
        if result.is_ok() {
            parsed += 1;
        } else {
            failed += 1;
        }
        if jsonl {
            let record = wirewatch_fetcher::parse::conformance_record(&name, &result);
            serde_json::to_writer(&mut stdout, &record)?;
            writeln!(stdout)?;
        } else {
            match &result {
                Ok(feed) => writeln!(stdout, "{name}: {} entries", feed.entries.len())?,
                Err(error) => writeln!(stdout, "{name}: error: {error}")?,
            }
        }
    }
    stdout.flush()?;
    eprintln!("{parsed} parsed, {failed} failed");
    Ok(ExitCode::SUCCESS)
}
