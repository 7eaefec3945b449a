//! The hashing workers: a fixed set of threads, each with its own Argon2 memory
//! block, reused from one hash to the next. Hashing memory is therefore bounded by
//! the number of workers times Argon2's memory cost, whatever the load: no block is
//! allocated per hash, so the allocator has nothing to hold on to after a burst (a
//! 19 MiB allocation per hash on tokio's blocking threads is what kept the memory of
//! earlier versions: glibc keeps freed blocks of that size in per-thread arenas).
//! A hash whose stored parameters need more memory than this hasher's (FastAPI
//! Users' Argon2 takes 64 MiB) borrows a larger block for that one hash and gives it
//! back at once.
//!
//! Verifications (logins) are taken before new hashes (registrations, password
//! changes): a flood of registrations delays a login by at most the hash a worker
//! is running, instead of queueing it behind the whole flood.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};

use argon2::Block;

use super::PasswordError;

/// A worker's reusable memory.
pub(super) struct Scratch {
    blocks: Vec<Block>,
    /// Blocks kept between hashes: this hasher's own memory cost.
    keep: usize,
}

impl Scratch {
    pub(super) fn new(keep: usize) -> Self {
        Self {
            blocks: Vec::new(),
            keep,
        }
    }

    /// `count` blocks of memory, allocated the first time and reused after.
    pub(super) fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        &mut self.blocks[..count]
    }

    /// Gives back what a larger-than-usual hash borrowed.
    fn trim(&mut self) {
        if self.blocks.len() > self.keep {
            self.blocks.truncate(self.keep);
            self.blocks.shrink_to_fit();
        }
    }
}

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

/// Which queue a job joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lane {
    /// Checking a password someone typed (a login): taken first.
    Verify,
    /// Hashing a new password (registration, password change, reset).
    Hash,
}

/// The jobs waiting for a worker, by lane.
#[derive(Default)]
struct Queues {
    verify: VecDeque<Job>,
    hash: VecDeque<Job>,
    /// Set when the hasher is dropped: workers finish what is queued, then stop.
    closed: bool,
}

impl Queues {
    fn next(&mut self) -> Option<Job> {
        self.verify.pop_front().or_else(|| self.hash.pop_front())
    }
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

/// The workers of one hasher; they stop when the last clone of it is dropped.
pub(super) struct Workers {
    shared: Arc<Shared>,
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Ok(mut queues) = self.shared.queues.lock() {
            queues.closed = true;
        }
        self.shared.ready.notify_all();
    }
}

impl Workers {
    /// Starts `count` workers keeping `keep` blocks each.
    pub(super) fn start(count: usize, keep: usize) -> Result<Self, String> {
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        for index in 0..count {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("warden-hash-{index}"))
                .spawn(move || {
                    let mut scratch = Scratch::new(keep);
                    loop {
                        // One worker at a time takes the next job; the lock is
                        // released before the job runs.
                        let job = {
                            let Ok(mut queues) = shared.queues.lock() else {
                                return;
                            };
                            loop {
                                if let Some(job) = queues.next() {
                                    break job;
                                }
                                if queues.closed {
                                    return;
                                }
                                queues = match shared.ready.wait(queues) {
                                    Ok(queues) => queues,
                                    Err(_) => return,
                                };
                            }
                        };
                        // A panicking job fails its caller (its result channel is
                        // dropped), not the worker.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut scratch)));
                        scratch.trim();
                    }
                })
                .map_err(|error| format!("cannot start a hashing worker: {error}"))?;
        }
        Ok(Self { shared })
    }

    /// Queues `work` at once (so jobs queue in the order `run` is called) and
    /// returns its result's future, which waits without blocking the executor.
    pub(super) fn run<T, F>(
        &self,
        lane: Lane,
        work: F,
    ) -> impl Future<Output = Result<T, PasswordError>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&mut Scratch) -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let _ = done.send(work(scratch));
        });
        let queued = match self.shared.queues.lock() {
            Ok(mut queues) => {
                match lane {
                    Lane::Verify => queues.verify.push_back(job),
                    Lane::Hash => queues.hash.push_back(job),
                }
                true
            }
            Err(_) => false,
        };
        self.shared.ready.notify_one();
        async move {
            if !queued {
                return Err(PasswordError::Failed("hashing workers stopped".into()));
            }
            result
                .await
                .map_err(|_| PasswordError::Failed("a hashing worker failed".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker busy with a hash, a registration's hash queued, then a login's
    /// verification: the verification runs first.
    #[tokio::test]
    async fn a_verification_runs_before_queued_hashes() {
        let workers = Workers::start(1, 0).unwrap();
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let order = Arc::new(Mutex::new(Vec::new()));
        let busy = workers.run(Lane::Hash, move |_| {
            let _ = started.send(());
            let _ = gate.recv();
        });
        running.await.unwrap();
        let job = |lane: Lane, name: &'static str| {
            let order = Arc::clone(&order);
            workers.run(lane, move |_| order.lock().unwrap().push(name))
        };
        let hash = job(Lane::Hash, "hash");
        let verify = job(Lane::Verify, "verify");
        release.send(()).unwrap();
        busy.await.unwrap();
        hash.await.unwrap();
        verify.await.unwrap();
        assert_eq!(*order.lock().unwrap(), ["verify", "hash"]);
    }
}
