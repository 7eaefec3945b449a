//! The behaviour every [`UserStore`] must show. warden runs it against its memory and
//! SQLite stores; a third-party store runs it from its own tests (cargo feature
//! `store-contract`):
//!
//! ```ignore
//! #[tokio::test]
//! async fn my_store_keeps_the_contract() {
//!     warden_runtime::store::contract::check(&MyStore::new(), |_| ()).await;
//! }
//! ```
//!
//! It panics, naming the case, at the first behaviour that differs.

use super::{Ceremony, PasskeyStore, StoredPasskey};
use super::{OAuthAccount, OAuthAccountStore, StoreError, UserStore};
use crate::model::{Account, UserId, UserModel};

/// A new user named `name`: it logs in with `name@example.com` (a model logging in
/// with its e-mail) or with `name` (a `login = username` model, whose e-mail if it has
/// one is `name@example.com` in lower case). Its id is generated (UUID) or left to
/// the store.
pub fn user<U: UserModel>(name: &str, extra: U::Create) -> U {
    let email = if U::LOGIN == "email" {
        format!("{name}@example.com")
    } else {
        format!("{}@example.com", name.to_ascii_lowercase())
    };
    U::new(
        Account {
            id: U::Id::generate().unwrap_or_else(U::Id::placeholder),
            email: U::HAS_EMAIL.then_some(email),
            hashed_password: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
            is_active: true,
            is_superuser: false,
            is_verified: false,
        },
        extra,
    )
}

/// The login of the user [`user`] makes of `name`.
fn login<U: UserModel>(name: &str) -> String {
    if U::LOGIN == "email" {
        format!("{name}@example.com")
    } else {
        name.to_owned()
    }
}

/// An id no user has.
fn absent_id<U: UserModel>() -> U::Id {
    U::Id::generate()
        .or_else(|| U::Id::parse("9000000000000000001"))
        .unwrap_or_else(U::Id::placeholder)
}

/// Runs every case against `store`, which must start empty. `extra` makes the
/// model's registration extras of the user named by its argument (for a
/// `login = username` model, its username is that name).
pub async fn check<U: UserModel>(store: &dyn UserStore<U>, extra: impl Fn(&str) -> U::Create) {
    let new = |name: &str| user::<U>(name, extra(name));
    let alice = store.create(new("Alice")).await.expect("create");
    assert_eq!(alice.login(), login::<U>("Alice"), "login kept as given");
    assert_eq!(
        store.get(alice.id()).await.expect("get"),
        Some(alice.clone()),
        "a created user reads back equal, extra fields included"
    );
    assert_eq!(
        store
            .get_by_login(&login::<U>("aLICE").replace("example.com", "EXAMPLE.com"))
            .await
            .expect("get_by_login"),
        Some(alice.clone()),
        "login lookup ignores ASCII case"
    );
    let by_email = store
        .get_by_email("alice@EXAMPLE.com")
        .await
        .expect("get_by_email");
    if U::HAS_EMAIL {
        assert_eq!(
            by_email,
            Some(alice.clone()),
            "e-mail lookup ignores ASCII case"
        );
    } else {
        assert_eq!(
            by_email, None,
            "a model without e-mail finds nobody by e-mail"
        );
    }
    assert_eq!(
        store.get(&absent_id::<U>()).await.expect("get absent"),
        None,
        "an unknown id is None"
    );
    assert!(
        matches!(store.create(new("ALICE")).await, Err(StoreError::Duplicate)),
        "a second user with the same login in another case is refused"
    );

    let bob = store.create(new("bob")).await.expect("create bob");
    assert_ne!(bob.id(), alice.id(), "every user gets its own id");
    let mut renamed = new("alice");
    *renamed.account_mut().id = bob.id().clone();
    assert!(
        matches!(store.update(renamed).await, Err(StoreError::Duplicate)),
        "an update to a taken login is refused"
    );
    assert_eq!(store.get(bob.id()).await.expect("get"), Some(bob.clone()));

    let mut promoted = bob.clone();
    *promoted.account_mut().is_superuser = true;
    *promoted.account_mut().hashed_password = "new".into();
    assert_eq!(
        store.update(promoted.clone()).await.expect("update"),
        promoted
    );
    assert_eq!(
        store.get(bob.id()).await.expect("get"),
        Some(promoted.clone())
    );

    let mut stale = bob.clone();
    *stale.account_mut().is_verified = true;
    assert!(
        matches!(store.replace(&bob, stale).await, Err(StoreError::Conflict)),
        "replace over a stale copy is a conflict"
    );
    let current = store.get(bob.id()).await.expect("get").expect("bob");
    let mut demoted = current.clone();
    *demoted.account_mut().is_superuser = false;
    assert_eq!(
        store
            .replace(&current, demoted.clone())
            .await
            .expect("replace"),
        demoted
    );

    store.delete(bob.id()).await.expect("delete");
    assert_eq!(store.get(bob.id()).await.expect("get"), None);
    assert!(matches!(
        store.delete(bob.id()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.replace(&bob, bob.clone()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(store.update(bob).await, Err(StoreError::NotFound)));
    let again = store
        .create(new("bob"))
        .await
        .expect("a deleted user's login is free again");
    assert_ne!(again.id(), alice.id());
    if let Some(accounts) = store.oauth_accounts() {
        oauth_accounts(
            accounts.as_ref(),
            &alice.id().to_string(),
            &again.id().to_string(),
        )
        .await;
    }
    if let Some(passkeys_of) = store.passkeys() {
        passkeys(
            passkeys_of.as_ref(),
            &alice.id().to_string(),
            &again.id().to_string(),
        )
        .await;
    }
}

/// The passkey tables' behaviour, for a store that keeps them: `alice` and `bob`
/// are ids of stored users.
pub(crate) async fn passkeys(store: &dyn PasskeyStore, alice: &str, bob: &str) {
    let handle = store.claim_handle(alice, "h-alice").await.expect("claim");
    assert_eq!(handle, "h-alice");
    assert_eq!(
        store.claim_handle(alice, "h-other").await.expect("claim"),
        "h-alice",
        "a user keeps the handle they have"
    );
    assert_eq!(
        store
            .user_of_handle("h-alice")
            .await
            .expect("user_of_handle"),
        Some(alice.to_owned())
    );
    assert_eq!(store.handle(bob).await.expect("handle"), None);
    store
        .add(&StoredPasskey::new(
            "cred-2",
            alice,
            "phone",
            "{\"c\":0}",
            20,
        ))
        .await
        .expect("add");
    store
        .add(&StoredPasskey::new(
            "cred-1",
            alice,
            "laptop",
            "{\"c\":0}",
            10,
        ))
        .await
        .expect("add");
    assert!(
        matches!(
            store
                .add(&StoredPasskey::new("cred-1", bob, "stolen", "{}", 30))
                .await,
            Err(StoreError::Duplicate)
        ),
        "one credential, one account"
    );
    let ids = async |user: &str| -> Vec<String> {
        store
            .all_of_user(user)
            .await
            .expect("all_of_user")
            .into_iter()
            .map(|passkey| passkey.id)
            .collect()
    };
    assert_eq!(ids(alice).await, ["cred-1", "cred-2"], "oldest first");
    assert!(ids(bob).await.is_empty());
    assert!(
        store
            .used("cred-1", "{\"c\":0}", "{\"c\":1}", true, 40)
            .await
            .expect("used")
    );
    assert!(
        !store
            .used("cred-1", "{\"c\":0}", "{\"c\":2}", false, 41)
            .await
            .expect("used"),
        "a use that read the credential before another's changed it writes nothing"
    );
    let used = store.get("cred-1").await.expect("get").expect("stored");
    assert_eq!(
        (used.credential.as_str(), used.backed_up, used.last_used_at),
        ("{\"c\":1}", true, Some(40))
    );
    assert!(!store.rename("cred-1", bob, "x").await.expect("rename"));
    assert!(store.rename("cred-1", alice, "work").await.expect("rename"));
    assert_eq!(
        store.get("cred-1").await.expect("get").map(|p| p.name),
        Some("work".to_owned())
    );
    assert!(!store.remove("cred-2", bob).await.expect("remove"));
    assert!(store.remove("cred-2", alice).await.expect("remove"));
    assert!(!store.remove("cred-2", alice).await.expect("remove"));
    let ceremony = Ceremony::new("login", Some(alice.to_owned()), "{}", 100);
    store.begin("k1", &ceremony, 50).await.expect("begin");
    store
        .begin("k0", &Ceremony::new("login", None, "{}", 10), 5)
        .await
        .expect("begin");
    assert_eq!(store.take("k1").await.expect("take"), Some(ceremony));
    assert_eq!(store.take("k1").await.expect("take"), None, "taken once");
    store
        .begin("k2", &Ceremony::new("register", None, "{}", 200), 60)
        .await
        .expect("begin");
    assert_eq!(
        store.take("k0").await.expect("take"),
        None,
        "expired ceremonies are purged as new ones begin"
    );
}

/// The `oauth_account` table's behaviour, for a store that keeps one: `alice` and
/// `bob` are ids of stored users.
async fn oauth_accounts(accounts: &dyn OAuthAccountStore, alice: &str, bob: &str) {
    let link = |name: &str, id: &str, user: &str| {
        OAuthAccount::new(name, id, format!("{id}@example.com"), user)
    };
    for (name, id, user) in [
        ("oidc", "a-2", alice),
        ("github", "a-1", alice),
        ("oidc", "b-1", bob),
    ] {
        accounts.link(&link(name, id, user)).await.expect("link");
    }
    assert!(
        matches!(
            accounts.link(&link("oidc", "a-2", bob)).await,
            Err(StoreError::Duplicate)
        ),
        "one provider account, one user"
    );
    let listed = async |user: &str| -> Vec<(String, String)> {
        accounts
            .all_of_user(user)
            .await
            .expect("all_of_user")
            .into_iter()
            .map(|account| (account.oauth_name, account.account_id))
            .collect()
    };
    let pair = |name: &str, id: &str| (name.to_owned(), id.to_owned());
    assert_eq!(
        listed(alice).await,
        [pair("github", "a-1"), pair("oidc", "a-2")],
        "a user's accounts, by provider and account id"
    );
    assert!(
        !accounts.unlink("oidc", "b-1", alice).await.expect("unlink"),
        "another user's account is not unlinked"
    );
    assert_eq!(listed(bob).await, [pair("oidc", "b-1")]);
    assert!(accounts.unlink("oidc", "a-2", alice).await.expect("unlink"));
    assert!(
        !accounts.unlink("oidc", "a-2", alice).await.expect("unlink"),
        "unlinked once"
    );
    assert_eq!(
        accounts.user_of("oidc", "a-2").await.expect("user_of"),
        None
    );
    assert_eq!(listed(alice).await, [pair("github", "a-1")]);
}
