//! The job runner on real stores: timers that fire after a restart, back-off and job status,
//! singleton jobs on two runners sharing one database (SQLite file and PostgreSQL).

use async_trait::async_trait;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tocsin_jobs::{Backoff, Job, JobError, Progress, Runner, TimerHandler};
use tocsin_store::{DynStore, NewTimer, Timer};
use tocsin_store_sqlite::SqliteStore;
use tocsin_store_tests::Db;
use tokio::sync::mpsc;

/// Wait (at most a minute, polling) until `f` holds.
async fn until(mut f: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within a minute");
}

struct Fired(mpsc::UnboundedSender<Timer>);

#[async_trait]
impl TimerHandler for Fired {
    async fn fire(&self, t: &Timer) -> Result<(), JobError> {
        let _ = self.0.send(t.clone());
        Ok(())
    }
}

async fn open(path: &std::path::Path) -> DynStore {
    Arc::new(
        SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_scheduled_before_a_restart_fires_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tocsin.db");
    let store = open(&file).await;
    let id = store
        .schedule_timer(NewTimer {
            kind: "alert.escalate".into(),
            key: Some("alert:x:escalate".into()),
            payload: serde_json::json!({"alert": "x"}),
            fire_at: tocsin_domain::time::now() + chrono::Duration::seconds(1),
        })
        .await
        .unwrap();
    // A runner that knows no such timer kind: it stays pending through its life.
    let running = Runner::new(store.clone()).start();
    running.shutdown().await;
    drop(store);

    // "Restart": a new store on the same file, a new runner with the handler.
    let store = open(&file).await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(store.clone());
    runner.on_timer("alert.escalate", Arc::new(Fired(tx)));
    let running = runner.start();
    let fired = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("the timer fires")
        .unwrap();
    assert_eq!(fired.id, id, "the handler is told the timer's id");
    assert_eq!(fired.payload["alert"], "x");
    until(|| running.board().snapshot()["timers"].record.backlog == Some(0)).await;
    running.shutdown().await;
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    assert!(rx.try_recv().is_err(), "fired once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_whose_claimant_died_fires_again_with_the_same_id() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("tocsin.db")).await;
    let id = store
        .schedule_timer(NewTimer {
            kind: "k".into(),
            key: None,
            payload: serde_json::json!({}),
            fire_at: tocsin_domain::time::now(),
        })
        .await
        .unwrap();
    // A process claimed it, then died (kill -9) before completing: its claim lapses.
    let claimed = store
        .claim_timers(&["k".to_string()], "dead-process", 10, 0)
        .await
        .unwrap();
    assert_eq!(claimed[0].id, id);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner::new(store.clone());
    runner.on_timer("k", Arc::new(Fired(tx)));
    let running = runner.start();
    let fired = tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fired.id, fired.attempts), (id, 2));
    running.shutdown().await;
}

#[test]
fn backoff_doubles_up_to_its_cap() {
    let b = Backoff {
        base: Duration::from_secs(5),
        max: Duration::from_secs(60),
    };
    let d: Vec<u64> = (1..=7).map(|n| b.delay(n).as_secs()).collect();
    assert_eq!(d, [5, 10, 20, 40, 60, 60, 60]);
    assert_eq!(b.delay(0), b.delay(1));
    assert_eq!(b.delay(u32::MAX).as_secs(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_backs_off_records_its_error_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("tocsin.db")).await;
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let job = Job::new("flaky", Duration::from_millis(10), move || {
        let n = r.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if n <= 3 {
                Err(format!("gateway down ({n})").into())
            } else {
                Ok(Progress::backlog(7))
            }
        }
    })
    .backoff(Backoff {
        base: Duration::from_millis(20),
        max: Duration::from_millis(40),
    })
    .tolerance(Duration::ZERO);
    let mut runner = Runner::new(store.clone());
    runner.add(job);
    let running = runner.start();
    let board = running.board();
    until(|| board.snapshot()["flaky"].record.failing_since.is_some()).await;
    assert_eq!(
        board.unhealthy(tocsin_domain::time::now() + chrono::Duration::seconds(1)),
        ["flaky"],
        "failing past its tolerance"
    );
    until(|| board.snapshot()["flaky"].record.last_ok.is_some()).await;
    let s = board.snapshot()["flaky"].clone();
    assert_eq!(s.record.failing_since, None);
    assert_eq!(s.record.last_error.as_deref(), Some("gateway down (3)"));
    assert_eq!(s.record.backlog, Some(7));
    assert!(board.unhealthy(tocsin_domain::time::now()).is_empty());
    running.shutdown().await;
    let stored = store.job_records().await.unwrap();
    let r = stored.iter().find(|r| r.name == "flaky").unwrap();
    assert_eq!((r.backlog, r.failing_since), (Some(7), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_a_failure_not_a_dead_runner() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("tocsin.db")).await;
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let job = Job::new("boom", Duration::from_millis(5), move || {
        let n = r.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                panic!("bug");
            }
            Ok(Progress::done())
        }
    })
    .backoff(Backoff {
        base: Duration::from_millis(5),
        max: Duration::from_millis(5),
    });
    let mut runner = Runner::new(store);
    runner.add(job);
    let running = runner.start();
    let board = running.board();
    until(|| board.snapshot()["boom"].record.last_ok.is_some()).await;
    assert_eq!(
        board.snapshot()["boom"].record.last_error.as_deref(),
        Some("the job panicked")
    );
    running.shutdown().await;
}

/// Two runners (two stores, as two servers) share one database; a singleton job never runs
/// on both at once, and when its holder shuts down the other takes it over.
async fn singleton_runs_on_one_runner_at_a_time(a: DynStore, b: DynStore) {
    let active = Arc::new(AtomicUsize::new(0));
    let overlap = Arc::new(AtomicUsize::new(0));
    let runs: [Arc<AtomicU32>; 2] = Default::default();
    let mut runners = Vec::new();
    for (i, store) in [a, b].into_iter().enumerate() {
        let (active, overlap, runs) = (active.clone(), overlap.clone(), runs[i].clone());
        let job = Job::new("signals", Duration::from_millis(5), move || {
            let (active, overlap, runs) = (active.clone(), overlap.clone(), runs.clone());
            async move {
                if active.fetch_add(1, Ordering::SeqCst) > 0 {
                    overlap.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                active.fetch_sub(1, Ordering::SeqCst);
                runs.fetch_add(1, Ordering::SeqCst);
                Ok(Progress::done())
            }
        })
        .singleton();
        let mut r = Runner::new(store).lease_ttl(Duration::from_secs(3));
        r.add(job);
        runners.push(Some(r.start()));
    }
    let total = || runs[0].load(Ordering::SeqCst) + runs[1].load(Ordering::SeqCst);
    until(|| total() >= 20).await;
    assert_eq!(overlap.load(Ordering::SeqCst), 0, "never on both at once");
    let holder = usize::from(runs[1].load(Ordering::SeqCst) > 0);
    assert_eq!(
        runs[1 - holder].load(Ordering::SeqCst),
        0,
        "the lease stays with one runner while it renews it"
    );
    // The holder shuts down (its lease released): the other runner takes the job over.
    runners[holder].take().unwrap().shutdown().await;
    until(|| runs[1 - holder].load(Ordering::SeqCst) >= 3).await;
    let other = runners[1 - holder].take().unwrap();
    assert!(other.board().snapshot()["signals"].here);
    other.shutdown().await;
    assert_eq!(overlap.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_on_one_sqlite_file_share_a_singleton() {
    let db = Db::sqlite().await;
    singleton_runs_on_one_runner_at_a_time(db.store.clone(), db.open_another().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runners_on_one_postgres_share_a_singleton() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    singleton_runs_on_one_runner_at_a_time(db.store.clone(), db.open_another().await).await;
}

/// A singleton's holder keeps its lease between runs far apart: the other server does not take
/// it over and run it again meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_singleton_between_runs_stays_with_its_holder() {
    let db = Db::sqlite().await;
    let runs = Arc::new(AtomicU32::new(0));
    let mut running = Vec::new();
    for store in [db.store.clone(), db.open_another().await] {
        let r = runs.clone();
        let job = Job::new("signals", Duration::from_secs(3600), move || {
            r.fetch_add(1, Ordering::SeqCst);
            async { Ok(Progress::done()) }
        })
        .singleton();
        let mut runner = Runner::new(store).lease_ttl(Duration::from_secs(1));
        runner.add(job);
        running.push(runner.start());
    }
    until(|| runs.load(Ordering::SeqCst) >= 1).await;
    // Three lease lifetimes: a holder that did not renew between runs would have lost it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "run once in the hour, on one server"
    );
    let here: Vec<bool> = running
        .iter()
        .map(|r| r.board().snapshot()["signals"].here)
        .collect();
    assert_eq!(here.iter().filter(|h| **h).count(), 1, "{here:?}");
    // The holder stops: the other takes the lease over, and waits out the hour since the
    // last run instead of running at once.
    let holder = here.iter().position(|h| *h).unwrap();
    running.remove(holder).shutdown().await;
    let other = running.pop().unwrap();
    until(|| other.board().snapshot()["signals"].here).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    other.shutdown().await;
}

/// A killed holder's lease (never released) is renewed at once by a runner of the same owner
/// id, as `tocsin serve` restarted on its data directory; a runner of another id waits it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_owner_takes_a_dead_holders_lease_over_at_once() {
    let db = Db::sqlite().await;
    // The dead holder: a lease of an hour, as a killed server leaves it.
    assert!(db
        .store
        .acquire_lease("job:signals", "runner-stable@host", 3600)
        .await
        .unwrap());
    let start = |store: DynStore, owner: Option<&str>| {
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let job = Job::new("signals", Duration::from_millis(50), move || {
            r.fetch_add(1, Ordering::SeqCst);
            async { Ok(Progress::done()) }
        })
        .singleton();
        let mut runner = Runner::new(store);
        if let Some(o) = owner {
            runner = runner.with_owner(o);
        }
        runner.add(job);
        (runner.start(), runs)
    };
    let (other, other_runs) = start(db.open_another().await, None);
    let (same, same_runs) = start(db.store.clone(), Some("runner-stable@host"));
    until(|| same_runs.load(Ordering::SeqCst) >= 3).await;
    assert_eq!(
        other_runs.load(Ordering::SeqCst),
        0,
        "another owner waits for the lease to lapse"
    );
    same.shutdown().await;
    other.shutdown().await;
}
