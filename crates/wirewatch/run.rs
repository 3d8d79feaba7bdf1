//! Wiring: builds the bus and the stages from a [`Config`], runs them, and
//! shuts them down in order on SIGINT/SIGTERM (or after one round with
//! `--once`): stop polling, drain items, drain articles, drain outputs,
//! flush. Every task is joined before `run` returns.

use std::sync::Arc;

use anyhow::{bail, Context};
use wirewatch_bus::memory::MemoryBus;
use wirewatch_bus::{Bus, Handler, Shutdown};
use wirewatch_fetcher::{HttpClient, Poller, StateStore, Subscriber, SubscriberOptions};

use crate::config::{BusKind, Config, LogFormat, WebhookConfig};
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::pipeline::{
    spawn_stage, stage_spec, BusItemSink, ClassifierSlot, Classifiers, ClassifyStage, CleanStage,
    DeadLetterFile, OutputSink, OUTPUT_STAGE,
};
use crate::webhook::WebhookSink;

/// Which stages this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageSet {
    pub fetch: bool,
    pub clean: bool,
    pub classify: bool,
}

/// One stage, as `--stages` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Stage {
    Fetch,
    Clean,
    Classify,
}

impl StageSet {
    /// The stages named; all of them when none is.
    pub fn of(stages: &[Stage]) -> StageSet {
        let all = stages.is_empty();
        StageSet {
            fetch: all || stages.contains(&Stage::Fetch),
            clean: all || stages.contains(&Stage::Clean),
            classify: all || stages.contains(&Stage::Classify),
        }
    }

    fn all(self) -> bool {
        self.fetch && self.clean && self.classify
    }
}

pub fn init_logging(config: &Config) {
    // librdkafka's own log lines reach tracing (target `librdkafka`, and
    // `rdkafka::client` for its error callback). During an outage every
    // client repeats them at each reconnect, and the bus already reports the
    // outage once, so they are off unless the filter names them
    // (`info,librdkafka=info`).
    let directives = std::env::var("WIREWATCH_LOG").unwrap_or_else(|_| config.log_level.clone());
    let directives = if directives.contains("rdkafka") {
        directives
    } else {
        format!("{directives},librdkafka=off,rdkafka=off")
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    // A second init (tests, repeated calls) is harmless; ignore it.
    let _ = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// SIGHUP, as a stream of signals (on Unix; elsewhere nothing arrives).
struct Hangups {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

impl Hangups {
    async fn next(&mut self) {
        #[cfg(unix)]
        self.signal.recv().await;
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

fn hangups() -> anyhow::Result<Hangups> {
    Ok(Hangups {
        #[cfg(unix)]
        signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing the SIGHUP handler")?,
    })
}

/// This process's entry in `<state_dir>/pids/`, which `wirewatch reload`
/// reads to find the daemons to signal; removed when the run ends.
struct PidFile(std::path::PathBuf);

impl PidFile {
    fn create(state_dir: &std::path::Path) -> anyhow::Result<PidFile> {
        let dir = state_dir.join("pids");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(std::process::id().to_string());
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(PidFile(path))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `wirewatch reload`: sends SIGHUP to every wirewatch daemon that runs on
/// this config's state directory (as found in `<state_dir>/pids/`); entries
/// of processes that are gone (a kill -9) are removed. Returns how many were
/// signalled.
pub fn signal_reload(config: &Config) -> anyhow::Result<usize> {
    let dir = config.state_dir.join("pids");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            bail!(
                "no wirewatch daemon runs on {} (no {})",
                config.state_dir.display(),
                dir.display()
            )
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", dir.display())),
    };
    let mut signalled = 0;
    for entry in entries {
        let path = entry?.path();
        let Some(pid) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        // Only a live wirewatch process: a pid reused by another program
        // after a kill -9 must not get the signal.
        let command = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let is_wirewatch = command
            .split(|&byte| byte == 0)
            .next()
            .is_some_and(|program| program.ends_with(b"wirewatch"));
        if !is_wirewatch {
            let _ = std::fs::remove_file(&path);
            continue;
        }
        let sent = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .context("running kill")?;
        if sent.success() {
            signalled += 1;
        }
    }
    if signalled == 0 {
        bail!("no wirewatch daemon runs on {}", config.state_dir.display());
    }
    Ok(signalled)
}

/// The rules and, when configured, the semantic layer, as the config says.
fn build_classifiers(config: &Config, metrics: &Arc<Metrics>) -> anyhow::Result<Classifiers> {
    let rules = crate::build_classifier(Some(config))?;
    let semantic = crate::build_semantic(config, &rules, Arc::clone(metrics))?;
    Ok(Classifiers { rules, semantic })
}

/// What a SIGHUP can replace in this process.
struct Reloadable {
    /// The poller's feed list (when this process polls).
    feed_lists: Option<tokio::sync::watch::Sender<Vec<wirewatch_fetcher::FeedSpec>>>,
    /// The classify stage's classifiers (when this process classifies).
    classifiers: Option<(ClassifierSlot, Arc<Metrics>)>,
}

/// On each SIGHUP, reads the config, its feed files and the taxonomy
/// again. A valid config hands its feed list to the poller (feeds added
/// start, removed stop, changed ones restart) and its taxonomy, thresholds,
/// sanctions list and semantic layer to the classify stage (between two
/// articles). An invalid one is refused with every problem logged, and
/// what runs is kept. Other settings take effect at the next start, which
/// the log says.
async fn reload_on_hangup(
    mut hangups: Hangups,
    path: std::path::PathBuf,
    reloadable: Reloadable,
    mut shutdown: Shutdown,
) {
    loop {
        tokio::select! {
            () = hangups.next() => {}
            () = shutdown.wait() => return,
        }
        if reloadable.feed_lists.is_none() && reloadable.classifiers.is_none() {
            tracing::info!(
                "SIGHUP: nothing to reload here (no classify stage, and no feed files: a fetcher sharing the feed list follows topics.feeds, which `wirewatch feeds sync` updates)"
            );
            continue;
        }
        let config = match Config::load(&path) {
            Ok(config) => config,
            Err(error) => {
                for line in error.to_string().lines() {
                    tracing::error!(problem = %line, "SIGHUP: reload refused; the running configuration is kept");
                }
                continue;
            }
        };
        // The classifiers first: a taxonomy that does not load refuses the
        // whole reload, feed list included.
        if let Some((slot, metrics)) = &reloadable.classifiers {
            match build_classifiers(&config, metrics) {
                Ok(classifiers) => {
                    slot.replace(classifiers);
                    tracing::info!("SIGHUP: taxonomy, thresholds and sanctions list reloaded");
                }
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "SIGHUP: reload refused; the running configuration is kept");
                    continue;
                }
            }
        }
        if let Some(feed_lists) = &reloadable.feed_lists {
            tracing::info!(
                config = %path.display(),
                feeds = config.feeds.len(),
                "SIGHUP: reloading the feed list (other settings apply at the next start)"
            );
            feed_lists.send_replace(config.feeds);
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn termination_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn build_bus(config: &Config, stages: StageSet) -> anyhow::Result<Arc<dyn Bus>> {
    match config.bus {
        BusKind::Memory => {
            if !stages.all() {
                bail!("--stages needs bus.kind = \"kafka\": the memory bus only connects stages inside one process");
            }
            let bus = MemoryBus::new(config.memory_capacity);
            let group = |name: &str| format!("{}.{name}", config.kafka.group_prefix);
            bus.declare(&config.topics.items, &group("clean"));
            bus.declare(&config.topics.articles, &group("classify"));
            bus.declare(&config.topics.classified, &group(OUTPUT_STAGE));
            for webhook in &config.output.webhooks {
                bus.declare(&config.topics.classified, &group(&webhook.stage_name()));
            }
            bus.declare(&config.topics.dead_letter, &group("dead-letters"));
            Ok(Arc::new(bus))
        }
        BusKind::Kafka => kafka_bus(config),
    }
}

#[cfg(feature = "kafka")]
fn kafka_bus(config: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    Ok(Arc::new(wirewatch_bus::kafka::KafkaBus::new(
        kafka_options(config),
    )?))
}

#[cfg(feature = "kafka")]
pub fn kafka_options(config: &Config) -> wirewatch_bus::kafka::KafkaOptions {
    let kafka = &config.kafka;
    wirewatch_bus::kafka::KafkaOptions {
        brokers: kafka.brokers.clone(),
        client_id: kafka.client_id.clone(),
        compression: kafka.compression,
        transactional: kafka.transactional,
        instance_id: kafka.instance_id.clone(),
        linger_ms: kafka.linger_ms,
        shutdown_timeout: kafka.shutdown_timeout,
        repeat_window: kafka.repeat_window,
        properties: kafka.properties.clone().into_iter().collect(),
    }
}

#[cfg(not(feature = "kafka"))]
fn kafka_bus(_: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    bail!("this build has no Kafka support (built without the `kafka` feature)")
}

/// Runs the configured stages until a termination signal (or one round).
pub async fn run(config: Config, stages: StageSet, once: bool) -> anyhow::Result<()> {
    // Installed first: from here on SIGHUP reloads instead of killing.
    let hangups = hangups()?;
    let _pid_file = PidFile::create(&config.state_dir)?;
    let bus = build_bus(&config, stages)?;
    let (trigger, shutdown) = Shutdown::new();
    // Feeds from the shared table (Kafka) start empty and follow the
    // partitions this fetcher is given (see `crate::shared_feeds`).
    let shared = stages.fetch && config.feed_list == crate::config::FeedList::Kafka;
    if shared && once {
        bail!("--once polls the feed files once; with fetcher.feed_list = \"kafka\" the feeds are shared between running fetchers (set fetcher.feed_list = \"files\" for a one-off round)");
    }
    let (feed_lists, lists) = tokio::sync::watch::channel(if shared {
        Vec::new()
    } else {
        config.feeds.clone()
    });
    let http = HttpClient::new(config.http.clone())?;
    let group_prefix = config.kafka.group_prefix.clone();
    let topics = config.topics.clone();
    let is_memory = config.bus == BusKind::Memory;
    let metrics = Arc::new(Metrics::default());
    // Every task of the daemon (stages, poller, listener and its
    // connections, ...) is spawned on this tracker: at the end it proves
    // each one ended.
    let tasks = tokio_util::task::TaskTracker::new();

    let mut cleaners = None;
    if stages.clean {
        let handler = Arc::new(CleanStage {
            http: http.clone(),
            min_text_chars: config.min_text_chars,
            output_topic: topics.articles.clone(),
            metrics: Arc::clone(&metrics),
        });
        let spec = stage_spec(
            "clean",
            &group_prefix,
            vec![topics.items.clone()],
            config.page_concurrency,
            &topics.dead_letter,
        )
        .skipping_repeated_keys();
        cleaners = Some(spawn_stage(
            &tasks,
            Arc::clone(&bus),
            spec,
            handler,
            shutdown.clone(),
        ));
    }
    let mut classifiers = None;
    let mut classifier_slot = None;
    if stages.classify {
        let built = build_classifiers(&config, &metrics)?;
        config
            .output
            .check_labels(&crate::classifier_labels(&built.rules))
            .map_err(crate::invalid_config)?;
        let slot = ClassifierSlot::new(built);
        classifier_slot = Some(slot.clone());
        let handler = Arc::new(ClassifyStage {
            classifiers: slot,
            topics: topics.clone(),
            metrics: Arc::clone(&metrics),
        });
        let spec = stage_spec(
            "classify",
            &group_prefix,
            vec![topics.articles.clone()],
            2,
            &topics.dead_letter,
        )
        .skipping_repeated_keys();
        classifiers = Some(spawn_stage(
            &tasks,
            Arc::clone(&bus),
            spec,
            handler,
            shutdown.clone(),
        ));
    }
    // The memory bus's write-ahead journal: what was in flight when the
    // last run stopped comes back (see `crate::journal`).
    let (journal, replay) = if is_memory {
        let (journal, replay) = Journal::open(&config.state_dir)?;
        (Some(Arc::new(journal)), replay)
    } else {
        (None, Vec::new())
    };
    let mut sinks = Vec::new();
    if let Some(journal) = &journal {
        let mut final_stages = vec![OUTPUT_STAGE.to_owned()];
        final_stages.extend(config.output.webhooks.iter().map(WebhookConfig::stage_name));
        journal.set_final_stages(&final_stages);
    }
    let wants_output = config.output.stdout || config.output.jsonl.is_some();
    // On the memory bus the output stage always runs: it is where a story
    // is done in the journal, even with nothing to write.
    if stages.classify && (wants_output || is_memory) {
        let stdout_text = match config.output.stdout_format {
            crate::config::StdoutFormat::Text => true,
            crate::config::StdoutFormat::Json => false,
            crate::config::StdoutFormat::Auto => {
                std::io::IsTerminal::is_terminal(&std::io::stdout())
            }
        };
        let sink = OutputSink::open(
            config.output.stdout,
            stdout_text,
            config.output.jsonl.as_ref(),
            config.output.include,
            &config.state_dir.join("output-written.ids"),
            journal.clone(),
            Arc::clone(&metrics),
        )?;
        let spec = stage_spec(
            OUTPUT_STAGE,
            &group_prefix,
            vec![topics.classified.clone()],
            1,
            &topics.dead_letter,
        );
        sinks.push(spawn_stage(
            &tasks,
            Arc::clone(&bus),
            spec,
            Arc::new(sink),
            shutdown.clone(),
        ));
    }
    let mut webhooks = Vec::new();
    if stages.classify {
        for webhook in &config.output.webhooks {
            let stage = webhook.stage_name();
            // Memory bus: deliveries run in the background, so the stage
            // never holds back the classify stage; Kafka: the topic holds
            // the backlog and the handler delivers (see `crate::webhook`).
            let (sink, concurrency) = match &journal {
                Some(journal) => (
                    WebhookSink::background(
                        webhook.clone(),
                        &config.state_dir,
                        Arc::clone(&metrics),
                        Arc::clone(journal),
                        Arc::clone(&bus),
                        &topics.dead_letter,
                    )?,
                    1,
                ),
                None => (
                    WebhookSink::inline(webhook.clone(), &config.state_dir, Arc::clone(&metrics))?,
                    webhook.concurrency as usize,
                ),
            };
            let sink = Arc::new(sink);
            let spec = stage_spec(
                &stage,
                &group_prefix,
                vec![topics.classified.clone()],
                concurrency,
                &topics.dead_letter,
            );
            sinks.push(spawn_stage(
                &tasks,
                Arc::clone(&bus),
                spec,
                Arc::clone(&sink) as Arc<dyn Handler>,
                shutdown.clone(),
            ));
            webhooks.push(sink);
        }
    }
    let mut dead_letter_stage = None;
    if is_memory {
        std::fs::create_dir_all(&config.state_dir)
            .with_context(|| format!("creating state directory {}", config.state_dir.display()))?;
        let path = config.state_dir.join("dead-letters.jsonl");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let handler = Arc::new(DeadLetterFile {
            file: std::sync::Mutex::new(file),
            metrics: Arc::clone(&metrics),
            journal: journal.clone(),
        });
        let spec = stage_spec(
            "dead-letters",
            &group_prefix,
            vec![topics.dead_letter.clone()],
            1,
            &topics.dead_letter,
        );
        dead_letter_stage = Some(spawn_stage(
            &tasks,
            Arc::clone(&bus),
            spec,
            handler,
            shutdown.clone(),
        ));
    }

    let store = if stages.fetch {
        Some(StateStore::open(&config.state_dir)?)
    } else {
        None
    };
    let mut poller = None;
    if let Some(store) = &store {
        let sink = Arc::new(BusItemSink {
            bus: Arc::clone(&bus),
            topic: topics.items.clone(),
            metrics: Arc::clone(&metrics),
            journal: journal.clone(),
        });
        if !replay.is_empty() {
            tracing::info!(
                items = replay.len(),
                "replaying items that were in flight when the last run stopped"
            );
            for item in &replay {
                sink.publish(item)
                    .await
                    .map_err(|error| anyhow::anyhow!("replaying the journal: {error}"))?;
                Metrics::count(&metrics.items_replayed);
            }
        }
        poller = Some(Arc::new(Poller::new(
            http.clone(),
            store.clone(),
            config.poll.clone(),
            sink,
        )));
    }
    let mut shared_task = None;
    if let (true, Some(poller), Some(store)) = (shared, &poller, &store) {
        shared_task = Some(start_shared_feeds(
            &config,
            &tasks,
            poller,
            store,
            feed_lists.clone(),
            shutdown.token(),
        )?);
    }
    // WebSub needs a daemon that polls (a hub is found by a poll) and the
    // listener its callbacks share. A shared feed's subscription would
    // stay with the fetcher that made it when the feed moves: not yet.
    if shared && config.websub.is_some() {
        tracing::warn!(
            "websub is not used with fetcher.feed_list = \"kafka\"; shared feeds are polled"
        );
    }
    let mut subscriber = None;
    let mut subscriber_task = None;
    if let (Some(websub), Some(poller), Some(store), false, false) =
        (&config.websub, &poller, &store, once, shared)
    {
        let started = Subscriber::start(
            http.clone(),
            store.clone(),
            SubscriberOptions {
                callback_base: websub.public_url.clone(),
                lease: websub.lease,
                renew_before: websub.renew_before,
                fallback_interval: websub.fallback_interval,
                verify_timeout: websub.verify_timeout,
                max_concurrent_callbacks: websub.max_concurrent_callbacks,
                max_body_bytes: config.http.max_body_bytes,
            },
            poller,
            &config.feeds,
        );
        subscriber_task = Some(tasks.spawn(Arc::clone(&started).run(shutdown.token())));
        tracing::info!(public_url = %websub.public_url, "websub subscriber started");
        subscriber = Some(started);
    }
    let mut metrics_task = None;
    if let Some(address) = config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding metrics.listen {address}"))?;
        tracing::info!(address = %address, "serving the status page, /api/feeds, /api/flagged, /metrics, /healthz, /readyz");
        let served = crate::metrics::Served {
            metrics: Arc::clone(&metrics),
            store: store.clone(),
            bus: Arc::clone(&bus),
            subscriber: subscriber.clone(),
            feeds: stages.fetch.then(|| feed_lists.subscribe()),
            fetches: http.tally(),
            max_feed_series: config.max_feed_series,
        };
        metrics_task = Some(tasks.spawn(crate::metrics::serve(
            listener,
            served,
            shutdown.clone(),
            tasks.clone(),
        )));
    }
    // Feed health on the compacted topic (Kafka): stopped after the
    // poller, so its last round sees the last polls.
    let (status_stop, status_shutdown) = Shutdown::new();
    let mut status_task = None;
    if let (Some(topic), Some(store), false) = (&topics.feed_status, &store, is_memory) {
        let publisher = crate::feed_status::FeedStatusPublisher {
            bus: Arc::clone(&bus),
            topic: topic.clone(),
            store: store.clone(),
            feeds: feed_lists.subscribe(),
            metrics: Arc::clone(&metrics),
            // A shared feed leaving this fetcher went to another one.
            tombstones: !shared,
        };
        status_task = Some(tasks.spawn(publisher.run(status_shutdown)));
    }
    let mut poller_task = None;
    if let Some(poller) = poller {
        let feeds = config.feeds.clone();
        tracing::info!(feeds = feeds.len(), bus = ?config.bus, "wirewatch started");
        if once {
            poller_task = Some(tasks.spawn(async move {
                poll_all_once(&poller, &feeds).await;
            }));
        } else {
            let token = shutdown.token();
            drop(feeds);
            poller_task =
                Some(tasks.spawn(async move { poller.run_with_reloads(lists, token).await }));
        }
    }
    let reloads = tasks.spawn(reload_on_hangup(
        hangups,
        config.path.clone(),
        Reloadable {
            feed_lists: (stages.fetch && !once && !shared).then_some(feed_lists),
            classifiers: classifier_slot.map(|slot| (slot, Arc::clone(&metrics))),
        },
        shutdown.clone(),
    ));

    metrics
        .ready
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let signalled = wait_for_end(&mut poller_task, once && stages.fetch).await;
    trigger.fire();
    let _ = reloads.await;
    if let Some(task) = poller_task {
        task.await.context("poller task")?;
    }
    if let Some(task) = subscriber_task {
        task.await.context("websub subscriber task")?;
    }
    if let Some(task) = shared_task {
        task.await.context("shared feed list task")?;
    }
    status_stop.fire();
    if let Some(task) = status_task {
        task.await.context("feed status task")?;
    }
    drop(subscriber);
    // Drain in pipeline order (memory); Kafka stages stop on the signal.
    bus.close_topic(&topics.items).await;
    join_stage(cleaners).await?;
    bus.close_topic(&topics.articles).await;
    join_stage(classifiers).await?;
    bus.close_topic(&topics.classified).await;
    for topic in topics.flagged.values() {
        bus.close_topic(topic).await;
    }
    // The final stages may still dead-letter (a webhook out of retries)
    // while they drain, so the dead-letter topic closes after them.
    for sink in sinks {
        join_stage(Some(sink)).await?;
    }
    for webhook in &webhooks {
        webhook.finish(signalled).await;
    }
    bus.close_topic(&topics.dead_letter).await;
    join_stage(dead_letter_stage).await?;
    bus.flush().await?;
    if let Some(task) = metrics_task {
        let _ = task.await;
    }
    tasks.close();
    if tokio::time::timeout(TASKS_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            running = tasks.len(),
            "tasks still running {} s after the stages stopped; exiting anyway",
            TASKS_GRACE.as_secs()
        );
    } else {
        tracing::info!("every task ended");
    }
    tracing::info!("wirewatch stopped");
    Ok(())
}

/// Joins the fetchers sharing the feed list: the poller's list follows the
/// partitions this fetcher is given, and each settled feed's state is
/// written for the next fetcher to poll it.
#[cfg(feature = "kafka")]
fn start_shared_feeds(
    config: &Config,
    tasks: &tokio_util::task::TaskTracker,
    poller: &Arc<Poller>,
    store: &StateStore,
    lists: tokio::sync::watch::Sender<Vec<wirewatch_fetcher::FeedSpec>>,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let options = kafka_options(config);
    let (runner, writer) = tokio::task::block_in_place(|| {
        crate::shared_feeds::SharedFeeds::start(config, &options, store.clone())
    })?;
    poller.set_state_sink(writer);
    Ok(tasks.spawn(runner.run(Arc::clone(poller), lists, stop)))
}

#[cfg(not(feature = "kafka"))]
fn start_shared_feeds(
    _: &Config,
    _: &tokio_util::task::TaskTracker,
    _: &Arc<Poller>,
    _: &StateStore,
    _: tokio::sync::watch::Sender<Vec<wirewatch_fetcher::FeedSpec>>,
    _: tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    bail!("this build has no Kafka support (built without the `kafka` feature)")
}

/// How long the tasks left after the stages stop (connections of the
/// listener, mostly) get to end.
const TASKS_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits for a termination signal, or for the one round of `--once`. With
/// `--once` and no fetch stage (Kafka consumers only), waits for a signal.
/// True when a signal ended the wait.
async fn wait_for_end(poller_task: &mut Option<tokio::task::JoinHandle<()>>, once: bool) -> bool {
    match poller_task {
        Some(task) if once => {
            let signalled = tokio::select! {
                () = termination_signal() => true,
                _ = task => false,
            };
            *poller_task = None;
            signalled
        }
        _ => {
            termination_signal().await;
            true
        }
    }
}

async fn join_stage(
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
) -> anyhow::Result<()> {
    if let Some(task) = task {
        task.await.context("stage task panicked")??;
    }
    Ok(())
}

async fn poll_all_once(poller: &Arc<Poller>, feeds: &[wirewatch_fetcher::FeedSpec]) {
    let mut tasks = tokio::task::JoinSet::new();
    for feed in feeds.iter().cloned() {
        let poller = Arc::clone(poller);
        tasks.spawn(async move {
            match poller.poll_once(&feed).await {
                Ok(outcome) => {
                    if let Some(error) = outcome.error {
                        tracing::warn!(feed = %feed.url, error = %error, "feed poll failed");
                    } else {
                        tracing::info!(feed = %feed.url, new_items = outcome.emitted, not_modified = outcome.not_modified, "feed polled");
                    }
                }
                Err(error) => tracing::error!(feed = %feed.url, error = %error, "state store failure"),
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// `wirewatch fetch --once`: polls every feed once into stdout, with a
/// throwaway state directory so nothing is recorded as seen.
pub async fn fetch_once(config: Config) -> anyhow::Result<()> {
    struct StdoutSink;
    #[async_trait::async_trait]
    impl wirewatch_fetcher::ItemSink for StdoutSink {
        async fn accept(&self, item: wirewatch_model::FeedItem) -> Result<(), String> {
            let line = serde_json::to_string(&item).map_err(|error| error.to_string())?;
            println!("{line}");
            Ok(())
        }
    }
    let scratch = std::env::temp_dir().join(format!("wirewatch-fetch-{}", std::process::id()));
    let store = StateStore::open(&scratch)?;
    let http = HttpClient::new(config.http.clone())?;
    let mut options = config.poll.clone();
    options.max_item_age = None;
    let poller = Arc::new(Poller::new(http, store, options, Arc::new(StdoutSink)));
    poll_all_once(&poller, &config.feeds).await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// `wirewatch clean FILE|URL`: prints the article JSON.
pub async fn clean_one(target: &str) -> anyhow::Result<()> {
    let (body, content_type, url) =
        if target.starts_with("http://") || target.starts_with("https://") {
            let url = url::Url::parse(target).with_context(|| format!("invalid url {target}"))?;
            let http = HttpClient::new(wirewatch_fetcher::HttpOptions::default())?;
            let page = http.fetch_page(&url).await?;
            (page.body, page.content_type, Some(page.final_url))
        } else {
            let path = std::path::Path::new(target);
            let body = std::fs::read(path).with_context(|| format!("reading {target}"))?;
            let url = path
                .canonicalize()
                .ok()
                .and_then(|path| url::Url::from_file_path(path).ok());
            (body, None, url)
        };
    let cleaned = wirewatch_cleaner::clean(&wirewatch_cleaner::PageInput {
        body: &body,
        content_type: content_type.as_deref(),
        url: url.as_ref(),
    });
    let json = serde_json::json!({
        "url": url.map(String::from),
        "title": cleaned.title,
        "byline": cleaned.byline,
        "published": cleaned.published,
        "modified": cleaned.modified,
        "lang": cleaned.lang,
        "canonical_url": cleaned.canonical_url,
        "site_name": cleaned.site_name,
        "lead_image": cleaned.lead_image,
        "word_count": cleaned.text.split_whitespace().count(),
        "extraction": {"method": cleaned.method, "warnings": cleaned.warnings},
        "text": cleaned.text,
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// `wirewatch status`: one line per feed.
///
/// While a daemon holds the state file, the statuses come from its
/// `/api/feeds` on the `[metrics] listen` address instead.
pub fn print_status(config: &Config) -> anyhow::Result<()> {
    let (statuses, seen) = match StateStore::open(&config.state_dir) {
        Ok(store) => (
            store.all_feed_statuses()?.into_iter().collect(),
            store.seen_count()?,
        ),
        Err(error) if error.kind == wirewatch_fetcher::state::StateErrorKind::InUse => {
            let Some(listen) = config.metrics_listen else {
                bail!("{error}; set [metrics] listen in the config so `wirewatch status` can ask the running daemon");
            };
            status_from_daemon(listen)
                .with_context(|| format!("{error}; asking the daemon at {listen} failed"))?
        }
        Err(error) => return Err(error.into()),
    };
    print_statuses(config, &statuses, seen);
    Ok(())
}

/// The running daemon's feed statuses and seen-set size, from its
/// `/api/feeds`.
fn status_from_daemon(
    listen: std::net::SocketAddr,
) -> anyhow::Result<(
    std::collections::HashMap<String, wirewatch_fetcher::FeedStatus>,
    u64,
)> {
    use std::io::{Read, Write};
    let timeout = std::time::Duration::from_secs(5);
    let mut stream = std::net::TcpStream::connect_timeout(&listen, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET /api/feeds HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("a response without a head")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "{}: {}",
            head.lines().next().unwrap_or_default(),
            body.trim()
        );
    }
    let report: crate::dashboard::FeedsReport =
        serde_json::from_str(body).context("reading /api/feeds")?;
    let statuses = report
        .feeds
        .into_iter()
        .filter_map(|feed| Some((feed.url, feed.status?)))
        .collect();
    Ok((statuses, report.seen))
}

fn print_statuses(
    config: &Config,
    statuses: &std::collections::HashMap<String, wirewatch_fetcher::FeedStatus>,
    seen: u64,
) {
    for feed in &config.feeds {
        let key = wirewatch_model::printable(feed.url.as_str());
        match statuses.get(feed.url.as_str()) {
            None => println!("{key}\tnever polled"),
            Some(status) => println!(
                "{key}\tlast_success={}\tnext_poll={}\titems={}\tfailures_in_a_row={}\tmoved_to={}\tlast_error={}",
                status.last_success.map_or("-".into(), |time| time.to_rfc3339()),
                status.next_poll.map_or("-".into(), |time| time.to_rfc3339()),
                status.items_emitted,
                status.consecutive_failures,
                wirewatch_model::printable(status.moved_to.as_deref().unwrap_or("-")),
                wirewatch_model::printable(status.last_error.as_deref().unwrap_or("-")),
            ),
        }
    }
    println!("seen-set entries: {seen}");
}

/// `wirewatch topics create`.
#[cfg(feature = "kafka")]
pub async fn create_topics(config: &Config) -> anyhow::Result<()> {
    use wirewatch_bus::kafka::Cleanup;
    let topics = &config.topics;
    let mut names: Vec<(String, Cleanup)> = [
        &topics.items,
        &topics.articles,
        &topics.classified,
        &topics.dead_letter,
    ]
    .into_iter()
    .chain(topics.flagged.values())
    .map(|name| (name.clone(), Cleanup::Delete))
    .collect();
    names.extend(
        topics
            .feed_status
            .iter()
            .chain([&topics.feeds, &topics.feed_state])
            .map(|name| (name.clone(), Cleanup::Compact)),
    );
    let settings = wirewatch_bus::kafka::TopicSettings {
        partitions: config.kafka.partitions,
        replication_factor: config.kafka.replication_factor,
        retention: config.kafka.retention,
    };
    let created = wirewatch_bus::kafka::create_topics(&kafka_options(config), &names, &settings)
        .await
        .context("creating topics")?;
    for (name, outcome) in created {
        println!("{name}\t{outcome}");
    }
    Ok(())
}

/// `wirewatch feeds sync`.
#[cfg(feature = "kafka")]
pub async fn sync_feeds(config: &Config) -> anyhow::Result<()> {
    let synced = crate::shared_feeds::sync(config, &kafka_options(config)).await?;
    println!(
        "{}: {} feeds ({} written, {} unchanged), {} removed",
        config.topics.feeds,
        synced.written + synced.unchanged,
        synced.written,
        synced.unchanged,
        synced.removed
    );
    Ok(())
}

#[cfg(not(feature = "kafka"))]
pub async fn sync_feeds(_: &Config) -> anyhow::Result<()> {
    bail!("this build has no Kafka support (built without the `kafka` feature)")
}

#[cfg(not(feature = "kafka"))]
pub async fn create_topics(_: &Config) -> anyhow::Result<()> {
    bail!("this build has no Kafka support (built without the `kafka` feature)")
}
