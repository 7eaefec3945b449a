//! User persistence: the [`UserStore`] trait and its SQLite and in-memory stores.

mod memory;
mod sqlite;

use async_trait::async_trait;
use uuid::Uuid;

use crate::user::User;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another user has this e-mail (compared case-insensitively). Raised by the
    /// database's unique index, so it holds under concurrency.
    #[error("a user with this e-mail exists")]
    DuplicateEmail,
    /// No user has this id.
    #[error("no such user")]
    NotFound,
    /// The user changed since it was read.
    #[error("the user changed meanwhile")]
    Conflict,
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// The database holds something we cannot read (a malformed id, say).
    #[error("corrupt user record: {0}")]
    Corrupt(String),
}

/// Where users live. Implementations must enforce unique e-mails case-insensitively
/// in the storage itself (an index, a lock), never by a check-then-insert.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user with this id.
    async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    /// The user with this e-mail, compared case-insensitively.
    async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;
    /// Inserts a new user; [`StoreError::DuplicateEmail`] if the e-mail is taken.
    async fn create(&self, user: User) -> Result<User, StoreError>;
    /// Replaces a stored user's fields; [`StoreError::NotFound`] if it is gone.
    async fn update(&self, user: User) -> Result<User, StoreError>;
    /// Replaces the stored user with `new` only if it still equals `expected`,
    /// atomically; [`StoreError::Conflict`] if another write came first. Operations
    /// that read, work (hash a password) and then write use it, so they never undo a
    /// change made meanwhile (an admin's deactivation, say).
    async fn replace(&self, expected: &User, new: User) -> Result<User, StoreError>;
    /// Deletes a user; [`StoreError::NotFound`] if there was none.
    async fn delete(&self, id: Uuid) -> Result<(), StoreError>;
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every store must show, run against each one.
    use super::*;

    pub(crate) fn user(email: &str) -> User {
        User {
            id: Uuid::new_v4(),
            email: email.into(),
            hashed_password: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
        }
    }

    fn promoted_copy(user: &User) -> User {
        User {
            is_superuser: true,
            ..user.clone()
        }
    }

    pub(crate) async fn check(store: &dyn UserStore) {
        let alice = store.create(user("Alice@example.com")).await.unwrap();
        assert_eq!(store.get(alice.id).await.unwrap(), Some(alice.clone()));
        assert_eq!(
            store.get_by_email("alice@EXAMPLE.com").await.unwrap(),
            Some(alice.clone())
        );
        assert_eq!(store.get(Uuid::new_v4()).await.unwrap(), None);
        assert!(matches!(
            store.create(user("ALICE@example.com")).await,
            Err(StoreError::DuplicateEmail)
        ));

        let bob = store.create(user("bob@example.com")).await.unwrap();
        let mut renamed = bob.clone();
        renamed.email = "alice@example.com".into();
        assert!(matches!(
            store.update(renamed).await,
            Err(StoreError::DuplicateEmail)
        ));
        assert_eq!(store.get(bob.id).await.unwrap(), Some(bob.clone()));

        let mut promoted = bob.clone();
        promoted.is_superuser = true;
        promoted.hashed_password = "new".into();
        assert_eq!(store.update(promoted.clone()).await.unwrap(), promoted);
        assert_eq!(store.get(bob.id).await.unwrap(), Some(promoted));

        let stale = promoted_copy(&bob);
        assert!(matches!(
            store.replace(&bob, stale).await,
            Err(StoreError::Conflict)
        ));
        let current = store.get(bob.id).await.unwrap().unwrap();
        let mut demoted = current.clone();
        demoted.is_superuser = false;
        assert_eq!(
            store.replace(&current, demoted.clone()).await.unwrap(),
            demoted
        );

        store.delete(bob.id).await.unwrap();
        assert_eq!(store.get(bob.id).await.unwrap(), None);
        assert!(matches!(
            store.delete(bob.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.replace(&bob, bob.clone()).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(store.update(bob).await, Err(StoreError::NotFound)));
    }
}
