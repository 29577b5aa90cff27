//! Background jobs. Each job runs off the UI thread (tokio task or `spawn_blocking`), reports
//! progress through the event loop's channel, and finishes with an [`Action`] to apply (or an
//! error message). Cancelling sets a flag the job checks between units of work.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::mpsc::UnboundedSender;

use crate::tui::action::Action;

pub type JobId = u64;

thread_local! {
    static IN_JOB: Cell<bool> = const { Cell::new(false) };
}

/// True while the current thread runs job code. The panic hook uses it: a panicking job is
/// caught and reported as a failed job, so the terminal must stay as it is.
pub fn in_job() -> bool {
    IN_JOB.with(Cell::get)
}

fn as_job<T>(f: impl FnOnce() -> T) -> T {
    /// Puts the flag back even when the job panics through it.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            IN_JOB.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(IN_JOB.with(|c| c.replace(true)));
    f()
}

/// Marks every poll of a job's future as job code (see [`in_job`]).
struct JobFuture<F>(Pin<Box<F>>);

impl<F: Future> Future for JobFuture<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let fut = self.0.as_mut();
        as_job(|| fut.poll(cx))
    }
}

#[derive(Debug, Clone)]
pub enum JobEvent {
    Progress {
        id: JobId,
        done: u64,
        total: u64,
    },
    Finished {
        id: JobId,
        result: Result<Box<Action>, String>,
    },
}

/// What a job gets: where to report progress and how to learn it was cancelled.
#[derive(Clone)]
pub struct Progress {
    id: JobId,
    tx: UnboundedSender<Action>,
    cancel: Arc<AtomicBool>,
    /// Last reported permille, so a tight loop does not flood the channel.
    last: Arc<AtomicU64>,
}

impl Progress {
    /// Reports `done` of `total`. Sends at most one message per 0.1 % step.
    pub fn set(&self, done: u64, total: u64) {
        let permille = (done.saturating_mul(1000)).checked_div(total).unwrap_or(0) + 1;
        if self.last.swap(permille, Ordering::Relaxed) != permille || done == total {
            let _ = self.tx.send(Action::Job(JobEvent::Progress {
                id: self.id,
                done,
                total,
            }));
        }
    }
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// The flag itself, for store functions that take `&AtomicBool`.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancel
    }
}

#[derive(Debug, Clone)]
pub struct JobInfo {
    pub label: String,
    pub done: u64,
    pub total: u64,
    cancel: Arc<AtomicBool>,
}

impl JobInfo {
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }
}

pub struct Jobs {
    tx: UnboundedSender<Action>,
    next: JobId,
    running: BTreeMap<JobId, JobInfo>,
}

impl Jobs {
    pub fn new(tx: UnboundedSender<Action>) -> Jobs {
        Jobs {
            tx,
            next: 1,
            running: BTreeMap::new(),
        }
    }

    fn register(&mut self, label: String) -> Progress {
        let id = self.next;
        self.next += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        self.running.insert(
            id,
            JobInfo {
                label,
                done: 0,
                total: 0,
                cancel: cancel.clone(),
            },
        );
        Progress {
            id,
            tx: self.tx.clone(),
            cancel,
            last: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }

    /// Runs blocking work (SQLite, files) on tokio's blocking pool.
    pub fn spawn_blocking<F>(&mut self, label: impl Into<String>, f: F) -> JobId
    where
        F: FnOnce(&Progress) -> Result<Action, String> + Send + 'static,
    {
        let p = self.register(label.into());
        let id = p.id;
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| as_job(|| f(&p))))
                    .unwrap_or_else(|_| Err("job crashed; see the log file".into()));
            let _ = tx.send(Action::Job(JobEvent::Finished {
                id,
                result: result.map(Box::new),
            }));
        });
        id
    }

    /// Runs async work (network adapters) as a tokio task.
    pub fn spawn<F, Fut>(&mut self, label: impl Into<String>, f: F) -> JobId
    where
        F: FnOnce(Progress) -> Fut,
        Fut: Future<Output = Result<Action, String>> + Send + 'static,
    {
        let p = self.register(label.into());
        let id = p.id;
        let tx = self.tx.clone();
        let task = tokio::spawn(JobFuture(Box::pin(f(p))));
        tokio::spawn(async move {
            // A panicking job ends its task; it is reported, never left "running".
            let result = task
                .await
                .unwrap_or_else(|_| Err("job crashed; see the log file".into()));
            let _ = tx.send(Action::Job(JobEvent::Finished {
                id,
                result: result.map(Box::new),
            }));
        });
        id
    }

    /// The event loop's inbox, for adapters that report on their own (connection states as
    /// `Action::Conn`, say) rather than as one job.
    pub fn sender(&self) -> UnboundedSender<Action> {
        self.tx.clone()
    }

    /// Updates the table from a job event; returns the finished job's label.
    pub fn apply(&mut self, ev: &JobEvent) -> Option<String> {
        match ev {
            JobEvent::Progress { id, done, total } => {
                if let Some(j) = self.running.get_mut(id) {
                    j.done = *done;
                    j.total = *total;
                }
                None
            }
            JobEvent::Finished { id, .. } => self.running.remove(id).map(|j| j.label),
        }
    }

    pub fn cancel(&self, id: JobId) {
        if let Some(j) = self.running.get(&id) {
            j.cancel.store(true, Ordering::Relaxed);
        }
    }

    pub fn cancel_all(&self) {
        for j in self.running.values() {
            j.cancel.store(true, Ordering::Relaxed);
        }
    }

    pub fn running(&self) -> impl Iterator<Item = (&JobId, &JobInfo)> {
        self.running.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[tokio::test]
    async fn blocking_job_reports_progress_then_result() {
        let (tx, mut rx) = unbounded_channel();
        let mut jobs = Jobs::new(tx);
        let id = jobs.spawn_blocking("hitung", |p| {
            for i in 1..=10 {
                p.set(i, 10);
            }
            Ok(Action::Render)
        });
        let mut progress = 0;
        loop {
            let Some(Action::Job(ev)) = rx.recv().await else {
                panic!("channel closed")
            };
            let finished = matches!(ev, JobEvent::Finished { .. });
            if let JobEvent::Finished { result, .. } = &ev {
                assert!(matches!(result.as_deref(), Ok(Action::Render)));
            } else {
                progress += 1;
            }
            let label = jobs.apply(&ev);
            if finished {
                assert_eq!(label.as_deref(), Some("hitung"));
                break;
            }
            assert_eq!(jobs.running().next().map(|(i, _)| *i), Some(id));
        }
        assert_eq!(progress, 10);
        assert!(jobs.is_empty());
    }

    #[tokio::test]
    async fn a_panicking_job_is_reported_as_failed() {
        let (tx, mut rx) = unbounded_channel();
        let mut jobs = Jobs::new(tx);
        jobs.spawn_blocking("rusak", |_| -> Result<Action, String> {
            assert!(in_job());
            panic!("boom")
        });
        jobs.spawn("rusak async", |_| async {
            assert!(in_job());
            panic!("boom")
        });
        for _ in 0..2 {
            let Some(Action::Job(ev)) = rx.recv().await else {
                panic!("channel closed")
            };
            let JobEvent::Finished { result, .. } = &ev else {
                continue;
            };
            assert!(result.as_ref().unwrap_err().contains("crashed"));
            jobs.apply(&ev);
        }
        assert!(jobs.is_empty());
        assert!(!in_job());
    }

    #[tokio::test]
    async fn cancel_reaches_the_job() {
        let (tx, mut rx) = unbounded_channel();
        let mut jobs = Jobs::new(tx);
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let id = jobs.spawn_blocking("lama", move |p| {
            go_rx.recv().unwrap();
            if p.is_cancelled() {
                Err("dibatalkan".into())
            } else {
                Ok(Action::Render)
            }
        });
        jobs.cancel(id);
        go_tx.send(()).unwrap();
        let Some(Action::Job(JobEvent::Finished { result, .. })) = rx.recv().await else {
            panic!("expected finish")
        };
        assert_eq!(result.unwrap_err(), "dibatalkan");
    }
}
