//! The hashing workers: a fixed set of threads, each with its own Argon2 memory
//! block, reused from one hash to the next. Hashing memory is therefore bounded by
//! the number of workers times Argon2's memory cost, whatever the load: no block is
//! allocated per hash, so the allocator has nothing to hold on to after a burst (a
//! 19 MiB allocation per hash on tokio's blocking threads is what kept the memory of
//! earlier versions: glibc keeps freed blocks of that size in per-thread arenas).
//! A hash whose stored parameters need more memory than this hasher's (FastAPI
//! Users' Argon2 takes 64 MiB) borrows a larger block for that one hash and gives it
//! back at once.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

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

/// The workers of one hasher; they stop when the last clone of it is dropped.
pub(super) struct Workers {
    jobs: mpsc::Sender<Job>,
}

impl Workers {
    /// Starts `count` workers keeping `keep` blocks each.
    pub(super) fn start(count: usize, keep: usize) -> Result<Self, String> {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..count {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("warden-hash-{index}"))
                .spawn(move || {
                    let mut scratch = Scratch::new(keep);
                    loop {
                        // One worker at a time takes the next job; the lock is
                        // released before the job runs.
                        let job = {
                            let Ok(receiver) = receiver.lock() else {
                                return;
                            };
                            receiver.recv()
                        };
                        let Ok(job) = job else { return };
                        // A panicking job fails its caller (its result channel is
                        // dropped), not the worker.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut scratch)));
                        scratch.trim();
                    }
                })
                .map_err(|error| format!("cannot start a hashing worker: {error}"))?;
        }
        Ok(Self { jobs: sender })
    }

    /// Runs `work` on a worker and waits for it without blocking the executor.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, PasswordError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Scratch) -> T + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |scratch| {
            let _ = done.send(work(scratch));
        });
        self.jobs
            .send(job)
            .map_err(|_| PasswordError::Failed("hashing workers stopped".into()))?;
        result
            .await
            .map_err(|_| PasswordError::Failed("a hashing worker failed".into()))
    }
}
