//! The job runner: the one owner of Tocsin's background work.
//!
//! A [`Runner`] is given [`Job`]s (periodic work: the delivery outbox, the signal schedule,
//! the map index refresh) and timer handlers ([`TimerHandler`]: one-off deadlines persisted
//! in the database, such as "escalate alert X at T"), then [`Runner::start`]s them. It gives
//! every job the same treatment:
//!
//! - **Shutdown**: one signal for all; each job finishes the run in progress, then stops
//!   ([`Running::shutdown`]).
//! - **Leases**: a [`Scope::Singleton`] job runs on one server of those sharing a database: it
//!   holds a lease in the database (owner + expiry), renewed while it runs and released on
//!   shutdown; another server takes over once it expires. A runner given a stable owner id
//!   ([`Runner::with_owner`]) renews at once the leases a killed process of that id left, so
//!   a restart does not wait for them to lapse.
//! - **Back-off**: after a failure the job waits [`Backoff::delay`] (doubling, capped) instead
//!   of its period.
//! - **Status**: each job's last success, last error, failing-since and backlog are kept on a
//!   [`Board`] (what `/healthz` reads) and recorded in the database, so every server can report
//!   jobs another one runs.
//! - **Timers** fire at least once, also after a restart or `kill -9`: a timer is claimed for a
//!   while, completed after its handler succeeds, and claimed again if its claimant died. The
//!   handler is told the timer's id so it can make its effect idempotent.
//!
//! **Invariant:** outside the stores' own I/O tasks and the HTTP accept loop, no code starts a
//! long-lived task; background work is a [`Job`] or a timer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tocsin_store::{DynStore, JobRecord, Timer};
use tokio::sync::{watch, Notify};

/// What a run achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Work still waiting after the run (e.g. messages not yet sent), if the job counts it.
    pub backlog: Option<i64>,
    /// More is ready now: run again at once instead of after the period.
    pub more: bool,
}

impl Progress {
    /// Nothing to report.
    pub fn done() -> Progress {
        Progress::default()
    }

    /// `n` items still waiting.
    pub fn backlog(n: i64) -> Progress {
        Progress {
            backlog: Some(n),
            more: false,
        }
    }
}

/// A run's failure: a message fit for logs and `/healthz` (no contact details, no message
/// text), and the work still waiting if the job counted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// What failed.
    pub message: String,
    /// Work still waiting, if known.
    pub backlog: Option<i64>,
}

impl From<String> for JobError {
    fn from(message: String) -> Self {
        JobError {
            message,
            backlog: None,
        }
    }
}

impl From<&str> for JobError {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

type RunFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Progress, JobError>> + Send>> + Send + Sync>;

/// Where a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In every process (work on this process's memory, or work whose items are claimed one
    /// by one in the database, as deliveries are).
    Process,
    /// On one server at a time among those sharing a database (a lease decides which).
    Singleton,
}

/// Delays after failures: `base`, then doubling, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The delay after the first failure.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(5),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The wait after `failures` failures in a row (1-based; 0 counts as 1).
    pub fn delay(&self, failures: u32) -> Duration {
        let shift = failures.saturating_sub(1).min(30);
        self.base
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// One periodic background task.
#[derive(Clone)]
pub struct Job {
    name: String,
    every: Duration,
    start_after: Duration,
    scope: Scope,
    tolerance: Duration,
    backoff: Backoff,
    wake: Option<Arc<Notify>>,
    run: RunFn,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("name", &self.name)
            .field("every", &self.every)
            .field("scope", &self.scope)
            .finish()
    }
}

/// How long a job may fail before `/healthz` answers 503, unless configured.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(900);

impl Job {
    /// A job named `name` running `run` every `every` (in every process; see
    /// [`Job::singleton`]), first at once.
    pub fn new<F, Fut>(name: &str, every: Duration, run: F) -> Job
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Progress, JobError>> + Send + 'static,
    {
        Job {
            name: name.to_string(),
            every,
            start_after: Duration::ZERO,
            scope: Scope::Process,
            tolerance: DEFAULT_TOLERANCE,
            backoff: Backoff::default(),
            wake: None,
            run: Arc::new(move || Box::pin(run())),
        }
    }

    /// Run on one server at a time among those sharing the database.
    pub fn singleton(mut self) -> Job {
        self.scope = Scope::Singleton;
        self
    }

    /// Wait this long before the first run.
    pub fn start_after(mut self, d: Duration) -> Job {
        self.start_after = d;
        self
    }

    /// Failing for longer than this makes `/healthz` answer 503.
    pub fn tolerance(mut self, d: Duration) -> Job {
        self.tolerance = d;
        self
    }

    /// Delays after failures.
    pub fn backoff(mut self, b: Backoff) -> Job {
        self.backoff = b;
        self
    }

    /// Run early when `n` is notified (e.g. a message was queued).
    pub fn woken_by(mut self, n: Arc<Notify>) -> Job {
        self.wake = Some(n);
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Fires the timers of one kind.
#[async_trait]
pub trait TimerHandler: Send + Sync {
    /// Do what the timer is for. It may be called more than once for one timer (after a
    /// crash, or a claim that lapsed): use `timer.id` to do it once. An error retries the
    /// timer after back-off.
    async fn fire(&self, timer: &Timer) -> Result<(), JobError>;
}

/// One job's state as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    /// Last success, last error, failing-since, backlog.
    pub record: JobRecord,
    /// How long it may fail before the server is unhealthy.
    pub tolerance: Duration,
    /// Whether this process runs it (a singleton: holds its lease; another server does: false).
    pub here: bool,
}

impl JobState {
    /// Failing for longer than its tolerance at `now`.
    pub fn unhealthy(&self, now: DateTime<Utc>) -> bool {
        self.record
            .failing_since
            .is_some_and(|since| (now - since).to_std().unwrap_or_default() > self.tolerance)
    }
}

/// Every job's state, shared between the runner and whoever reports on it.
#[derive(Clone, Default, Debug)]
pub struct Board(Arc<RwLock<BTreeMap<String, JobState>>>);

impl Board {
    /// Every job's state, by name.
    pub fn snapshot(&self) -> BTreeMap<String, JobState> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The jobs failing for longer than their tolerance at `now`.
    pub fn unhealthy(&self, now: DateTime<Utc>) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter(|(_, s)| s.unhealthy(now))
            .map(|(n, _)| n)
            .collect()
    }

    fn set(&self, name: &str, f: impl FnOnce(&mut JobState)) {
        let mut g = self.0.write().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = g.get_mut(name) {
            f(s);
        }
    }

    fn insert(&self, name: &str, tolerance: Duration) {
        let mut g = self.0.write().unwrap_or_else(|p| p.into_inner());
        g.entry(name.to_string()).or_insert_with(|| JobState {
            record: JobRecord {
                name: name.to_string(),
                ..Default::default()
            },
            tolerance,
            here: false,
        });
    }
}

/// The name of the built-in job that fires timers.
pub const TIMERS_JOB: &str = "timers";

/// Collects jobs and timer handlers, then starts them.
pub struct Runner {
    store: DynStore,
    owner: String,
    board: Board,
    jobs: Vec<Job>,
    timers: HashMap<String, Arc<dyn TimerHandler>>,
    lease_ttl: Duration,
    timer_claim: Duration,
    timer_every: Duration,
    timer_tolerance: Duration,
}

impl Runner {
    /// A runner over `store`, with a random owner id for its leases.
    pub fn new(store: DynStore) -> Runner {
        Runner {
            store,
            owner: format!("runner-{}", uuid::Uuid::new_v4().simple()),
            board: Board::default(),
            jobs: Vec::new(),
            timers: HashMap::new(),
            lease_ttl: Duration::from_secs(30),
            timer_claim: Duration::from_secs(60),
            timer_every: Duration::from_secs(1),
            timer_tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// Own leases as `owner` instead of a random id: leases a previous process of this id
    /// still holds (it was killed) are renewed at once rather than waited out. Only for an id
    /// no other live process can hold (`tocsin serve` derives it from its data directory
    /// under an exclusive lock): two live runners of one id would both run singletons.
    pub fn with_owner(mut self, owner: impl Into<String>) -> Runner {
        self.owner = owner.into();
        self
    }

    /// Report on this board (e.g. the one the HTTP server's `/healthz` reads).
    pub fn with_board(mut self, board: Board) -> Runner {
        self.board = board;
        self
    }

    /// How long a singleton job's lease lasts without renewal (default 30 s; renewed every
    /// third of it while held).
    pub fn lease_ttl(mut self, d: Duration) -> Runner {
        self.lease_ttl = d.max(Duration::from_secs(1));
        self
    }

    /// How long a claimed timer is reserved for its claimant (default 60 s): a timer whose
    /// claimant died fires again after this.
    pub fn timer_claim(mut self, d: Duration) -> Runner {
        self.timer_claim = d.max(Duration::from_secs(1));
        self
    }

    /// How often due timers are looked for (default every second), and the tolerance of the
    /// timers job.
    pub fn timer_poll(mut self, every: Duration, tolerance: Duration) -> Runner {
        self.timer_every = every;
        self.timer_tolerance = tolerance;
        self
    }

    /// This runner's lease owner id.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The board it reports on.
    pub fn board(&self) -> Board {
        self.board.clone()
    }

    /// Add a job.
    pub fn add(&mut self, job: Job) -> &mut Runner {
        self.jobs.push(job);
        self
    }

    /// Fire timers of `kind` with `handler`.
    pub fn on_timer(&mut self, kind: &str, handler: Arc<dyn TimerHandler>) -> &mut Runner {
        self.timers.insert(kind.to_string(), handler);
        self
    }

    /// Start every job (and, when a timer handler is registered, the timers job).
    pub fn start(mut self) -> Running {
        let (stop_tx, stop_rx) = watch::channel(false);
        if !self.timers.is_empty() {
            let timers = Arc::new(TimerFiring {
                store: self.store.clone(),
                owner: self.owner.clone(),
                handlers: std::mem::take(&mut self.timers),
                claim: self.timer_claim,
                backoff: Backoff::default(),
            });
            let job = Job::new(TIMERS_JOB, self.timer_every, move || {
                let t = timers.clone();
                async move { t.pass().await }
            })
            .tolerance(self.timer_tolerance);
            self.jobs.push(job);
        }
        let mut tasks = Vec::new();
        for job in self.jobs {
            self.board.insert(&job.name, job.tolerance);
            let ctx = JobCtx {
                store: self.store.clone(),
                owner: self.owner.clone(),
                board: self.board.clone(),
                lease_ttl: self.lease_ttl,
                stop: stop_rx.clone(),
            };
            tasks.push(tokio::spawn(ctx.run(job)));
        }
        Running {
            stop: stop_tx,
            tasks,
            board: self.board,
        }
    }
}

/// Started jobs.
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    board: Board,
}

impl Running {
    /// Their board.
    pub fn board(&self) -> Board {
        self.board.clone()
    }

    /// Stop every job: each finishes its run in progress and gives its lease up.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

struct JobCtx {
    store: DynStore,
    owner: String,
    board: Board,
    lease_ttl: Duration,
    stop: watch::Receiver<bool>,
}

/// Record a job's outcome in the database at least this often while nothing changes.
const RECORD_EVERY: Duration = Duration::from_secs(30);

impl JobCtx {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sleep `d`, or less if stopped or woken (true when woken).
    async fn pause(&mut self, d: Duration, wake: Option<&Arc<Notify>>) -> bool {
        let woken = async {
            match wake {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => false,
            _ = woken => true,
            _ = self.stop.changed() => false,
        }
    }

    async fn lease(&self, name: &str) -> bool {
        match self
            .store
            .acquire_lease(
                &format!("job:{name}"),
                &self.owner,
                self.lease_ttl.as_secs() as i64,
            )
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(job = name, error = %e, "cannot take or renew a job lease");
                false
            }
        }
    }

    /// Run `job`'s function once, renewing its lease meanwhile (singletons); `None` when the
    /// lease was lost midway (the run is abandoned: another server has it).
    async fn run_once(&self, job: &Job) -> Option<Result<Progress, JobError>> {
        let run = AssertUnwindSafe((job.run)()).catch_unwind();
        tokio::pin!(run);
        loop {
            let renew = async {
                match job.scope {
                    Scope::Singleton => tokio::time::sleep(self.lease_ttl / 3).await,
                    Scope::Process => std::future::pending().await,
                }
            };
            tokio::select! {
                r = &mut run => {
                    return Some(match r {
                        Ok(r) => r,
                        Err(_) => Err("the job panicked".into()),
                    });
                }
                _ = renew => {
                    if !self.lease(&job.name).await {
                        tracing::warn!(job = %job.name, "lost the job's lease while running; stopping this run");
                        return None;
                    }
                }
            }
        }
    }

    async fn run(mut self, job: Job) {
        let lease_name = format!("job:{}", job.name);
        let renew_every = self.lease_ttl / 3;
        let mut next_run = tokio::time::Instant::now() + job.start_after;
        let mut failures: u32 = 0;
        let mut last_recorded: Option<(std::time::Instant, JobRecord)> = None;
        let mut holding = false;
        while !self.stopped() {
            if job.scope == Scope::Singleton {
                let held = self.lease(&job.name).await;
                if !held {
                    holding = false;
                    self.board.set(&job.name, |s| s.here = false);
                    self.mirror(&job.name).await;
                    self.pause(renew_every, None).await;
                    continue;
                }
                if !holding {
                    // Just taken (at start, or over from a server that stopped): the last
                    // run, wherever it ran, sets when the next is due.
                    holding = true;
                    self.board.set(&job.name, |s| s.here = true);
                    if let Some(last) = self.last_ok_recorded(&job.name).await {
                        let since = (tocsin_domain::time::now() - last)
                            .to_std()
                            .unwrap_or_default();
                        let due = tokio::time::Instant::now() + job.every.saturating_sub(since);
                        next_run = next_run.max(due);
                    }
                }
            }
            let now = tokio::time::Instant::now();
            if now < next_run {
                // Wait for the next run; a singleton renews its lease meanwhile.
                let mut wait = next_run - now;
                if job.scope == Scope::Singleton {
                    wait = wait.min(renew_every);
                }
                if self.pause(wait, job.wake.as_ref()).await {
                    next_run = tokio::time::Instant::now();
                }
                continue;
            }
            self.board.set(&job.name, |s| s.here = true);
            let Some(outcome) = self.run_once(&job).await else {
                self.board.set(&job.name, |s| s.here = false);
                holding = false;
                continue;
            };
            let now = tocsin_domain::time::now();
            let delay = match &outcome {
                Ok(p) => {
                    failures = 0;
                    if p.more {
                        Duration::ZERO
                    } else {
                        job.every
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(job = %job.name, failures, error = %e, "job run failed");
                    job.backoff.delay(failures)
                }
            };
            next_run = tokio::time::Instant::now() + delay;
            let mut record = JobRecord::default();
            self.board.set(&job.name, |s| {
                match &outcome {
                    Ok(p) => {
                        s.record.last_ok = Some(now);
                        s.record.failing_since = None;
                        if p.backlog.is_some() {
                            s.record.backlog = p.backlog;
                        }
                    }
                    Err(e) => {
                        s.record.last_error = Some(e.message.clone());
                        s.record.last_error_at = Some(now);
                        s.record.failing_since.get_or_insert(now);
                        if e.backlog.is_some() {
                            s.record.backlog = e.backlog;
                        }
                    }
                }
                s.record.updated_at = Some(now);
                record = s.record.clone();
            });
            self.record(&mut last_recorded, record).await;
            if delay.is_zero() {
                tokio::task::yield_now().await;
            }
        }
        // The last outcome, so the server taking over knows when the job last ran.
        if let Some(s) = self.board.snapshot().get(&job.name) {
            if s.here && last_recorded.as_ref().is_none_or(|(_, r)| *r != s.record) {
                let _ = self.store.record_job(&s.record).await;
            }
        }
        if holding {
            if let Err(e) = self.store.release_lease(&lease_name, &self.owner).await {
                tracing::warn!(job = %job.name, error = %e, "could not give the job's lease up; it lapses on its own");
            }
        }
    }

    /// The last success recorded in the database for job `name`, wherever it ran.
    async fn last_ok_recorded(&self, name: &str) -> Option<DateTime<Utc>> {
        let records = self.store.job_records().await.ok()?;
        records.into_iter().find(|r| r.name == name)?.last_ok
    }

    /// Write the job's record to the database when its state changed or a while passed.
    async fn record(&self, last: &mut Option<(std::time::Instant, JobRecord)>, r: JobRecord) {
        let changed = match last {
            None => true,
            Some((at, prev)) => {
                at.elapsed() >= RECORD_EVERY
                    || prev.failing_since.is_some() != r.failing_since.is_some()
                    || prev.backlog != r.backlog
                    || prev.last_error != r.last_error
            }
        };
        if !changed {
            return;
        }
        match self.store.record_job(&r).await {
            Ok(()) => *last = Some((std::time::Instant::now(), r)),
            Err(e) => tracing::warn!(job = %r.name, error = %e, "could not record a job's outcome"),
        }
    }

    /// A singleton another server runs: show what that server recorded.
    async fn mirror(&self, name: &str) {
        if let Ok(records) = self.store.job_records().await {
            if let Some(r) = records.into_iter().find(|r| r.name == name) {
                self.board.set(name, |s| {
                    s.record = r;
                    s.here = false;
                });
            }
        }
    }
}

struct TimerFiring {
    store: DynStore,
    owner: String,
    handlers: HashMap<String, Arc<dyn TimerHandler>>,
    claim: Duration,
    backoff: Backoff,
}

/// Timers claimed per pass.
const TIMER_BATCH: u32 = 50;

impl TimerFiring {
    async fn pass(&self) -> Result<Progress, JobError> {
        let kinds: Vec<String> = self.handlers.keys().cloned().collect();
        let due = self
            .store
            .claim_timers(
                &kinds,
                &self.owner,
                TIMER_BATCH,
                self.claim.as_secs() as i64,
            )
            .await
            .map_err(|e| JobError::from(format!("cannot claim timers: {e}")))?;
        let mut failed = 0;
        for t in &due {
            let Some(h) = self.handlers.get(&t.kind) else {
                continue;
            };
            let fired = AssertUnwindSafe(h.fire(t))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err("the timer handler panicked".into()));
            match fired {
                Ok(()) => {
                    if let Err(e) = self.store.complete_timer(t.id, &self.owner).await {
                        tracing::warn!(timer = %t.id, error = %e, "could not mark a timer fired; it will fire again");
                    }
                }
                Err(e) => {
                    failed += 1;
                    let wait = self.backoff.delay(t.attempts.max(1) as u32);
                    let at = tocsin_domain::time::now()
                        + chrono::Duration::from_std(wait).unwrap_or_default();
                    tracing::warn!(timer = %t.id, kind = %t.kind, attempts = t.attempts, error = %e, "timer handler failed; retrying later");
                    if let Err(e) = self
                        .store
                        .retry_timer(t.id, &self.owner, at, &e.message)
                        .await
                    {
                        tracing::warn!(timer = %t.id, error = %e, "could not reschedule a timer; it fires again when its claim lapses");
                    }
                }
            }
        }
        let pending = self
            .store
            .pending_timers()
            .await
            .map_err(|e| JobError::from(format!("cannot count timers: {e}")))?;
        if failed > 0 && failed == due.len() {
            return Err(JobError {
                message: format!("{failed} timer(s) failed"),
                backlog: Some(pending),
            });
        }
        Ok(Progress {
            backlog: Some(pending),
            more: due.len() as u32 == TIMER_BATCH,
        })
    }
}
