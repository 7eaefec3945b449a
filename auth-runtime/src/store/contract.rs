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
//! It panics, naming the case, at the first behaviour that differs. A store that
//! keeps two-factor state ([`UserStore::two_factor`]) also runs [`two_factor`]
//! from `check`, and should run [`two_factor_races`] on a database several
//! connections share.

use std::sync::Arc;

use super::{
    AuditStore, Ban, BanStore, Ceremony, MfaChallenge, OAuthAccount, OAuthAccountStore,
    PasskeyStore, StoreError, StoredPasskey, TwoFactorStore, UserFilter, UserStore,
};
use crate::model::{Account, UserId, UserModel};

/// An [`AuditStore`]: a user's events come back newest first, paged by `before`,
/// never another user's; the purge deletes exactly the events older than its cut-off.
/// Times are in 1970, so a purge here leaves a shared database's real events alone.
pub async fn audit(store: &dyn AuditStore, alice: &str, bob: &str) {
    use crate::audit::{Client, SecurityEvent};
    let sign_in = |user: &str| SecurityEvent::SignIn {
        user_id: user.into(),
        backend: "jwt".into(),
        kind: "start",
        amr: vec!["pwd".into()],
        client: Client::new(Some([192, 0, 2, 7].into()), Some("Agent/1.0".into())),
    };
    let changed = |user: &str| SecurityEvent::PasswordChanged {
        user_id: user.into(),
        email: None,
    };
    let row = |at, event: &SecurityEvent| {
        super::StoredEvent::of(at, event).expect("the event names a user")
    };
    for (at, event) in [
        (1_000, sign_in(alice)),
        (1_001, sign_in(bob)),
        (1_002, changed(alice)),
        (1_003, sign_in(alice)),
    ] {
        store.record(row(at, &event)).await.expect("record");
    }
    let all = store.of_user(alice, 10, None).await.expect("of_user");
    let kinds: Vec<_> = all.iter().map(|e| (e.at, e.kind.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (1_003, "sign_in"),
            (1_002, "password_changed"),
            (1_000, "sign_in")
        ],
        "audit: newest first, only the user's"
    );
    assert_eq!(all[0].client_address.as_deref(), Some("192.0.2.7"));
    assert_eq!(all[0].user_agent.as_deref(), Some("Agent/1.0"));
    assert_eq!(all[1].user_agent, None);
    assert!(
        all[0].id > all[1].id && all[1].id > all[2].id,
        "audit: ids grow"
    );
    let page = store
        .of_user(alice, 1, Some(all[0].id))
        .await
        .expect("page");
    assert_eq!(page, [all[1].clone()], "audit: before pages, limit cuts");
    assert!(store.purge(1_002).await.expect("purge") >= 2);
    let left: Vec<_> = store
        .of_user(alice, 10, None)
        .await
        .expect("of_user")
        .into_iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(left, [1_003, 1_002], "audit: the purge keeps newer events");
    assert!(
        store
            .of_user(bob, 10, None)
            .await
            .expect("of_user")
            .is_empty()
    );
    store.purge(1_004).await.expect("purge");
}

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
    if let Some(kept) = store.audit() {
        audit(
            kept.as_ref(),
            &alice.id().to_string(),
            &again.id().to_string(),
        )
        .await;
    }
    if let Some(two_factor) = store.two_factor() {
        self::two_factor(
            two_factor.as_ref(),
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
    if let Some(keys) = store.api_keys() {
        api_keys(
            keys.as_ref(),
            &alice.id().to_string(),
            &again.id().to_string(),
        )
        .await;
    }
    if let Some(bans_of) = store.bans() {
        bans(bans_of.as_ref(), &alice.id().to_string()).await;
    }
    // The list last: it adds users.
    listing(store, &new).await;
}

/// The ban table's behaviour, for a store that keeps one: `alice` is a stored
/// user's id.
pub async fn bans(store: &dyn BanStore, alice: &str) {
    assert_eq!(
        store.get(alice).await.expect("get"),
        None,
        "no ban at first"
    );
    let ban = Ban::new(alice, 1_000)
        .until(Some(2_000))
        .reason(Some("spam"))
        .by(Some("admin-1"));
    store.put(&ban).await.expect("put");
    assert_eq!(store.get(alice).await.expect("get"), Some(ban.clone()));
    let forever = Ban::new(alice, 1_500);
    store.put(&forever).await.expect("put again");
    assert_eq!(
        store.get(alice).await.expect("get"),
        Some(forever),
        "a new ban replaces the old, every field"
    );
    assert!(store.remove(alice).await.expect("remove"));
    assert!(!store.remove(alice).await.expect("remove again"));
    assert_eq!(store.get(alice).await.expect("get"), None);
}

/// The admin list's paging and filters, for a store that lists
/// ([`UserStore::list`]); the store holds some users already.
async fn listing<U: UserModel>(store: &dyn UserStore<U>, new: &dyn Fn(&str) -> U) {
    let all = match store.list(&UserFilter::default(), None, 1_000).await {
        Err(StoreError::Unsupported(_)) => return,
        other => other.expect("list"),
    };
    let mut created = Vec::new();
    for name in ["Zed_1", "zed%2", "Zeta", "yann"] {
        created.push(store.create(new(name)).await.expect("create"));
    }
    let mut inactive = created[2].clone();
    *inactive.account_mut().is_active = false;
    store.update(inactive).await.expect("update");
    let everyone = store
        .list(&UserFilter::default(), None, 1_000)
        .await
        .expect("list");
    assert_eq!(everyone.len(), all.len() + created.len());
    // Paged two at a time, the walk meets everyone once, in the same order.
    let mut walked: Vec<U> = Vec::new();
    loop {
        let page = store
            .list(&UserFilter::default(), walked.last().map(|u| u.id()), 2)
            .await
            .expect("page");
        assert!(page.len() <= 2, "a page holds at most `limit` users");
        if page.is_empty() {
            break;
        }
        walked.extend(page);
    }
    assert_eq!(walked, everyone, "pages in one stable order");
    if U::HAS_EMAIL {
        let emails = |users: Vec<U>| {
            let mut emails: Vec<String> = users
                .iter()
                .filter_map(|u| u.email().map(str::to_ascii_lowercase))
                .collect();
            emails.sort();
            emails
        };
        let zed = store
            .list(&UserFilter::default().email_prefix("ZE"), None, 100)
            .await
            .expect("prefix");
        assert_eq!(
            emails(zed),
            ["zed%2@example.com", "zed_1@example.com", "zeta@example.com"],
            "a prefix, in any case"
        );
        let literal = store
            .list(&UserFilter::default().email_prefix("zed_"), None, 100)
            .await
            .expect("prefix");
        assert_eq!(
            emails(literal),
            ["zed_1@example.com"],
            "`_` and `%` are no wildcards"
        );
        let active = store
            .list(
                &UserFilter::default().email_prefix("ze").active(false),
                None,
                100,
            )
            .await
            .expect("flags");
        assert_eq!(emails(active), ["zeta@example.com"], "flags filter");
    }
}

/// The API key table's behaviour, for a store that keeps it: `alice` and `bob`
/// are ids of stored users.
pub(crate) async fn api_keys(store: &dyn super::ApiKeyStore, alice: &str, bob: &str) {
    use super::StoredApiKey;
    let key = StoredApiKey::new("k1", alice, "ci", "hash-1", 10)
        .scoped(vec!["reports:read".into(), "reports:write".into()])
        .expiring(Some(1_000));
    store.add(&key).await.expect("add");
    assert!(matches!(
        store
            .add(&StoredApiKey::new("k1", bob, "dup", "h", 11))
            .await,
        Err(StoreError::Duplicate)
    ));
    store
        .add(&StoredApiKey::new("k2", alice, "other", "hash-2", 20))
        .await
        .expect("add");
    let read = store.get("k1").await.expect("get").expect("found");
    assert_eq!(read, key, "a key reads back as written");
    assert_eq!(store.get("nope").await.expect("get"), None);
    let ids = |keys: Vec<StoredApiKey>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.all_of_user(alice).await.expect("all")),
        ["k1", "k2"]
    );
    assert!(store.all_of_user(bob).await.expect("all").is_empty());
    store.touch("k1", 50).await.expect("touch");
    assert_eq!(
        store
            .get("k1")
            .await
            .expect("get")
            .and_then(|k| k.last_used_at),
        Some(50)
    );
    assert!(
        !store.revoke("k1", bob, 60).await.expect("revoke"),
        "not bob's"
    );
    assert!(store.revoke("k1", alice, 60).await.expect("revoke"));
    assert!(
        !store.revoke("k1", alice, 61).await.expect("revoke"),
        "once"
    );
    assert_eq!(
        store
            .get("k1")
            .await
            .expect("get")
            .and_then(|k| k.revoked_at),
        Some(60),
        "a revoked key keeps its row"
    );
    assert_eq!(ids(store.all_of_user(alice).await.expect("all")), ["k2"]);
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

/// A challenge of `user` named `token`, expiring at `expires_at`.
fn challenge(token: &str, user: &str, expires_at: i64) -> MfaChallenge {
    MfaChallenge {
        token_hash: token.to_owned(),
        user_id: user.to_owned(),
        backend: "jwt".to_owned(),
        amr: vec!["pwd".to_owned(), "hwk".to_owned()],
        binding: Some(format!("binding-of-{token}")),
        expires_at,
        tries: 0,
    }
}

/// Recovery code lookup hashes named `prefix-0`, `prefix-1`, ...
fn codes(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|at| format!("{prefix}-{at}")).collect()
}

/// Two-factor state's behaviour, for a store that keeps it: `alice` and `bob` are
/// ids of users without any two-factor state yet.
pub async fn two_factor(store: &dyn TwoFactorStore, alice: &str, bob: &str) {
    // Nothing yet.
    assert_eq!(store.get(alice).await.expect("get"), None, "no record yet");
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 0);
    assert!(
        !store.advance_step(alice, 1).await.expect("advance_step"),
        "no step is accepted without a secret"
    );
    assert!(!store.disable(alice).await.expect("disable"), "was off");
    assert!(
        !store
            .confirm(alice, "p0", 1, 100, &[])
            .await
            .expect("confirm"),
        "nothing pending"
    );

    // Enrolment: a pending secret, replaced by a new enrolment, confirmed once.
    store.set_pending(alice, "p1").await.expect("set_pending");
    let record = store.get(alice).await.expect("get").expect("a record");
    assert_eq!(record.user_id, alice);
    assert_eq!(record.pending.as_deref(), Some("p1"));
    assert_eq!(
        (record.secret, record.last_step, record.enabled_at),
        (None, None, None)
    );
    assert_eq!(record.devices_trusted_after, 0);
    assert!(
        !store.advance_step(alice, 1).await.expect("advance_step"),
        "a pending secret accepts no step"
    );
    store.set_pending(alice, "p2").await.expect("set_pending");
    assert!(
        !store
            .confirm(alice, "p1", 10, 1000, &codes("a", 3))
            .await
            .expect("confirm"),
        "a stale pending secret is not confirmed"
    );
    assert_eq!(
        store
            .get(alice)
            .await
            .expect("get")
            .expect("a record")
            .secret,
        None
    );
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 0);
    assert!(
        store
            .confirm(alice, "p2", 10, 1000, &codes("a", 3))
            .await
            .expect("confirm"),
        "the pending secret is confirmed"
    );
    let record = store.get(alice).await.expect("get").expect("a record");
    assert_eq!(record.secret.as_deref(), Some("p2"));
    assert_eq!(record.pending, None);
    assert_eq!(record.last_step, Some(10));
    assert_eq!(record.enabled_at, Some(1000));
    assert_eq!(record.devices_trusted_after, 1000);
    assert!(record.is_enabled());
    assert!(
        !store
            .confirm(alice, "p2", 11, 1001, &[])
            .await
            .expect("confirm"),
        "confirmed once"
    );
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 3);

    // Time steps only move forward.
    assert!(
        !store.advance_step(alice, 10).await.expect("advance_step"),
        "the step of the confirmation is used"
    );
    assert!(
        !store.advance_step(alice, 9).await.expect("advance_step"),
        "an earlier step is refused"
    );
    assert!(store.advance_step(alice, 11).await.expect("advance_step"));
    assert!(
        !store.advance_step(alice, 11).await.expect("advance_step"),
        "a step is accepted once"
    );
    assert!(store.advance_step(alice, 13).await.expect("advance_step"));
    assert!(
        !store.advance_step(alice, 12).await.expect("advance_step"),
        "an earlier step after a later one"
    );
    assert_eq!(
        store
            .get(alice)
            .await
            .expect("get")
            .expect("a record")
            .last_step,
        Some(13)
    );
    assert!(
        !store.advance_step(bob, 100).await.expect("advance_step"),
        "another user's steps are their own"
    );

    // Recovery codes: single use, per user, replaced as a whole.
    assert!(
        !store.use_recovery_code(bob, "a-0").await.expect("use"),
        "another user's code"
    );
    assert!(store.use_recovery_code(alice, "a-0").await.expect("use"));
    assert!(
        !store.use_recovery_code(alice, "a-0").await.expect("use"),
        "a code is used once"
    );
    assert!(!store.use_recovery_code(alice, "zz").await.expect("use"));
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 2);
    store
        .replace_recovery_codes(alice, &codes("b", 10))
        .await
        .expect("replace_recovery_codes");
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 10);
    assert!(
        !store.use_recovery_code(alice, "a-1").await.expect("use"),
        "replaced codes are gone"
    );
    assert!(store.use_recovery_code(alice, "b-9").await.expect("use"));
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 9);

    // Re-enrolment while on: the secret stays until the new one is confirmed.
    store.set_pending(alice, "p3").await.expect("set_pending");
    let record = store.get(alice).await.expect("get").expect("a record");
    assert_eq!(record.secret.as_deref(), Some("p2"));
    assert_eq!(record.pending.as_deref(), Some("p3"));
    assert!(
        store.advance_step(alice, 14).await.expect("advance_step"),
        "the confirmed secret still works"
    );
    assert!(
        store
            .confirm(alice, "p3", 5, 2000, &codes("c", 2))
            .await
            .expect("confirm"),
        "the new secret is confirmed"
    );
    let record = store.get(alice).await.expect("get").expect("a record");
    assert_eq!(record.secret.as_deref(), Some("p3"));
    assert_eq!(record.pending, None);
    assert_eq!(
        record.last_step,
        Some(5),
        "a new secret starts from its own step"
    );
    assert_eq!(record.enabled_at, Some(2000));
    assert_eq!(record.devices_trusted_after, 2000);
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 2);
    assert!(!store.use_recovery_code(alice, "b-0").await.expect("use"));

    // Remembered devices: the cut-off only moves forward, and only for a record.
    store
        .set_devices_trusted_after(alice, 5000)
        .await
        .expect("set_devices_trusted_after");
    store
        .set_devices_trusted_after(alice, 4000)
        .await
        .expect("set_devices_trusted_after");
    assert_eq!(
        store
            .get(alice)
            .await
            .expect("get")
            .expect("a record")
            .devices_trusted_after,
        5000
    );
    store
        .set_devices_trusted_after(bob, 5000)
        .await
        .expect("set_devices_trusted_after");
    assert!(
        store
            .get(bob)
            .await
            .expect("get")
            .is_none_or(|r| !r.is_enabled()),
        "a user without two-factor authentication does not get it"
    );

    // Disabling removes the secrets and the codes.
    store.set_pending(alice, "p4").await.expect("set_pending");
    assert!(store.disable(alice).await.expect("disable"), "was on");
    let record = store.get(alice).await.expect("get");
    assert!(
        record
            .as_ref()
            .is_none_or(|r| r.secret.is_none() && r.pending.is_none()),
        "secrets removed: {record:?}"
    );
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 0);
    assert!(!store.advance_step(alice, 100).await.expect("advance_step"));
    assert!(
        !store
            .confirm(alice, "p4", 100, 3000, &[])
            .await
            .expect("confirm"),
        "the pending secret went too"
    );
    assert!(!store.disable(alice).await.expect("disable"), "was off");
    // Disabling an enrolment never confirmed: it was off.
    store.set_pending(bob, "q1").await.expect("set_pending");
    assert!(!store.disable(bob).await.expect("disable"));
    assert!(
        store
            .get(bob)
            .await
            .expect("get")
            .is_none_or(|r| r.pending.is_none())
    );

    // Challenges: tries counted up to the limit, refused once expired, taken once.
    store
        .open_challenge(&challenge("t1", alice, 1000))
        .await
        .expect("open_challenge");
    let mut bound = challenge("t2", bob, 1000);
    bound.binding = None;
    bound.amr = Vec::new();
    store.open_challenge(&bound).await.expect("open_challenge");
    for tries in 1..=3 {
        let now = store
            .try_challenge("t1", 900, 3)
            .await
            .expect("try_challenge");
        let mut expected = challenge("t1", alice, 1000);
        expected.tries = tries;
        assert_eq!(now, Some(expected), "try {tries} counted and returned");
    }
    assert_eq!(
        store
            .try_challenge("t1", 900, 3)
            .await
            .expect("try_challenge"),
        None,
        "out of tries"
    );
    assert_eq!(
        store
            .try_challenge("t1", 900, 3)
            .await
            .expect("try_challenge"),
        None,
        "still out of tries"
    );
    let mut expected = bound.clone();
    expected.tries = 1;
    assert_eq!(
        store
            .try_challenge("t2", 999, 5)
            .await
            .expect("try_challenge"),
        Some(expected),
        "no binding and no amr read back as such"
    );
    assert_eq!(
        store
            .try_challenge("t2", 1000, 5)
            .await
            .expect("try_challenge"),
        None,
        "expired at its expiry"
    );
    assert_eq!(
        store
            .try_challenge("nope", 0, 5)
            .await
            .expect("try_challenge"),
        None,
        "unknown"
    );
    assert!(store.take_challenge("t1").await.expect("take_challenge"));
    assert!(
        !store.take_challenge("t1").await.expect("take_challenge"),
        "taken once"
    );
    assert!(!store.take_challenge("nope").await.expect("take_challenge"));
    assert_eq!(
        store
            .try_challenge("t1", 0, 5)
            .await
            .expect("try_challenge"),
        None,
        "a taken challenge is gone"
    );

    // The purge drops what expired, and only that.
    store
        .open_challenge(&challenge("t3", alice, 500))
        .await
        .expect("open_challenge");
    store
        .open_challenge(&challenge("t4", alice, 2000))
        .await
        .expect("open_challenge");
    assert_eq!(
        store.purge_expired(1000).await.expect("purge_expired"),
        2,
        "t2 (at its expiry) and t3"
    );
    assert_eq!(store.purge_expired(1000).await.expect("purge_expired"), 0);
    assert!(
        store
            .try_challenge("t4", 1000, 5)
            .await
            .expect("try_challenge")
            .is_some(),
        "an unexpired challenge stays"
    );
    assert!(!store.take_challenge("t3").await.expect("take_challenge"));

    // A deleted user's state goes whole, and only theirs.
    store.set_pending(alice, "p5").await.expect("set_pending");
    assert!(
        store
            .confirm(alice, "p5", 1, 4000, &codes("d", 2))
            .await
            .expect("confirm")
    );
    store.set_pending(bob, "q2").await.expect("set_pending");
    store
        .open_challenge(&challenge("t5", bob, 9000))
        .await
        .expect("open_challenge");
    store.forget_user(alice).await.expect("forget_user");
    assert_eq!(store.get(alice).await.expect("get"), None);
    assert_eq!(store.recovery_codes_left(alice).await.expect("left"), 0);
    assert!(!store.take_challenge("t4").await.expect("take_challenge"));
    assert_eq!(
        store
            .get(bob)
            .await
            .expect("get")
            .and_then(|r| r.pending)
            .as_deref(),
        Some("q2")
    );
    assert!(store.take_challenge("t5").await.expect("take_challenge"));
    store.forget_user(bob).await.expect("forget_user");
    assert_eq!(store.get(bob).await.expect("get"), None);
}

/// Concurrent uses of one time step, recovery code, pending secret and challenge:
/// exactly one wins each, and a challenge's tries stop at the limit, however the
/// calls interleave. Run it on a store whose database several connections share
/// (a SQLite file, PostgreSQL), in a multi-threaded runtime; `user` is an id without
/// two-factor state.
pub async fn two_factor_races(store: Arc<dyn TwoFactorStore>, user: &str) {
    const RACERS: usize = 16;
    async fn race<F, Fut>(call: F) -> Vec<bool>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<bool, StoreError>> + Send + 'static,
    {
        let tasks: Vec<_> = (0..RACERS).map(|_| tokio::spawn(call())).collect();
        let mut results = Vec::with_capacity(RACERS);
        for task in tasks {
            results.push(task.await.expect("task").expect("store call"));
        }
        results
    }
    let winners = |results: &[bool]| results.iter().filter(|won| **won).count();

    store
        .set_pending(user, "race-1")
        .await
        .expect("set_pending");
    let confirms = race(|| {
        let (store, user) = (store.clone(), user.to_owned());
        async move {
            store
                .confirm(&user, "race-1", 10, 1000, &codes("r", 5))
                .await
        }
    })
    .await;
    assert_eq!(winners(&confirms), 1, "one confirmation wins: {confirms:?}");
    assert_eq!(store.recovery_codes_left(user).await.expect("left"), 5);

    let steps = race(|| {
        let (store, user) = (store.clone(), user.to_owned());
        async move { store.advance_step(&user, 11).await }
    })
    .await;
    assert_eq!(winners(&steps), 1, "one use of a step wins: {steps:?}");

    let uses = race(|| {
        let (store, user) = (store.clone(), user.to_owned());
        async move { store.use_recovery_code(&user, "r-0").await }
    })
    .await;
    assert_eq!(winners(&uses), 1, "one use of a code wins: {uses:?}");
    assert_eq!(store.recovery_codes_left(user).await.expect("left"), 4);

    store
        .open_challenge(&challenge("race-token", user, 5000))
        .await
        .expect("open_challenge");
    let tries = race(|| {
        let store = store.clone();
        async move { Ok(store.try_challenge("race-token", 100, 5).await?.is_some()) }
    })
    .await;
    assert_eq!(winners(&tries), 5, "tries stop at the limit: {tries:?}");
    let takes = race(|| {
        let store = store.clone();
        async move { store.take_challenge("race-token").await }
    })
    .await;
    assert_eq!(winners(&takes), 1, "one take wins: {takes:?}");
    store.forget_user(user).await.expect("forget_user");
}
