//! The hashing workers reuse their Argon2 memory: after the first hash, hashing and
//! verifying allocate next to nothing, where each hash would otherwise allocate its
//! memory cost (19 MiB at OWASP's parameters). Counted by an instrumented global
//! allocator, so this binary holds this one test.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use warden::{PasswordHasher, PasswordHasherConfig};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[tokio::test(flavor = "current_thread")]
async fn hashes_do_not_allocate_their_memory_cost() {
    let hasher = PasswordHasher::with_config(PasswordHasherConfig {
        max_concurrent: 1,
        max_waiting: 64,
        ..PasswordHasherConfig::default()
    })
    .unwrap();
    // Warm-up: the worker allocates its block, and the first verification measures
    // what FastAPI Users' hashes cost (borrowing a larger block, then giving it back).
    let hash = hasher.hash("warm-up-password".into()).await.unwrap();
    assert!(
        !hasher
            .verify("wrong".into(), hash.clone())
            .await
            .unwrap()
            .valid
    );

    let region = Region::new(ALLOCATOR);
    for _ in 0..5 {
        let fresh = hasher.hash("another-password".into()).await.unwrap();
        assert!(
            hasher
                .verify("another-password".into(), fresh)
                .await
                .unwrap()
                .valid
        );
        assert!(
            !hasher
                .verify("wrong".into(), hash.clone())
                .await
                .unwrap()
                .valid
        );
        hasher.verify_dummy("nobody".into()).await.unwrap();
    }
    let allocated = region.change().bytes_allocated;
    // Twenty operations at 19 MiB each would be 380 MiB; less than one block is left.
    assert!(
        allocated < 1024 * 1024,
        "20 hashes allocated {allocated} bytes: the workers' memory is not reused"
    );
}
