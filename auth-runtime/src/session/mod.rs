//! Sessions: every login opens one, every token it yields names it (the JWT `sid`
//! claim, or the hash of an opaque token), and ending it ends all of them on every
//! instance at once (OWASP ASVS 7.4.1, 7.4.2). Revocation is keyed on this
//! server-side state, never on token bytes (ECDSA signatures are malleable, RFC 8725
//! §2.1 footnote, so a byte-keyed deny list can be bypassed).
//!
//! [`SessionStore`] keeps sessions, rotating refresh tokens and per-user cut-offs in
//! the store's database (tables `warden_session`, `warden_refresh_token`,
//! `warden_token_cutoff`); [`Sessions`] puts a cache in front that every end
//! invalidates, on other instances through the database's change feed.

mod book;

pub use crate::store::sessions::{
    MAX_USER_AGENT, MemorySessions, RefreshUse, Session, SessionStore,
};
pub(crate) use book::random_id;
pub use book::{Admission, DEFAULT_MAX_SESSIONS, Sessions};
