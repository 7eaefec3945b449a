// The model: integer ids, a required, a defaulted and an optional field, a
// guarded handler taking it, and a warden built for it.
use axum::Json;
use axum::routing::get;
use warden::{MemoryStore, UserModel, Warden, auth_backend, protected, user_model};

/// Documented, like any struct.
#[user_model(id = i64)]
pub struct Member {
    /// A doc comment on a field is kept.
    #[user(read, create, update)]
    pub first_name: String,
    #[user(read, default = "free")]
    pub plan: String,
    #[user(read, create, update)]
    pub nickname: Option<String>,
}

#[auth_backend(lifetime = 3600, secret = "0123456789abcdef0123456789abcdef")]
pub struct Jwt;

#[protected(active)]
async fn hello(user: Member) -> Json<String> {
    Json(format!("Hello {} on {}", user.first_name, user.plan))
}

#[protected(optional)]
async fn maybe(user: Option<Member>) -> String {
    user.map(|u| u.first_name).unwrap_or_default()
}

fn main() {
    let warden = Warden::<Member>::builder()
        .store(MemoryStore::new())
        .backend::<Jwt>()
        .unwrap()
        .build()
        .unwrap();
    let _: axum::Router = axum::Router::new()
        .route("/hello", get(hello))
        .route("/maybe", get(maybe))
        .with_state(warden);
    let _: Option<i64> = None::<<Member as UserModel>::Id>;
    let create = MemberCreate { first_name: "Ann".into(), nickname: None };
    let update = MemberUpdate { first_name: Some("Annie".into()), nickname: Some(None) };
    let _ = (create, update);
}
