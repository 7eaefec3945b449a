// Generated code names nothing the user imported: the macros expand under
// `#![no_implicit_prelude]` with only fully qualified paths in scope.
#![no_implicit_prelude]

#[::warden::auth_backend(
    name = "rsa",
    lifetime = 900,
    algorithm = "RS256",
    secret = file("keys/rsa-private.pem"),
    public_key = env("RSA_PUBLIC_KEY"),
    audience = ["fastapi-users:auth", "other"],
    transport = bearer
)]
pub struct Rsa;

#[::warden::auth_backend(lifetime = forever, secret = "0123456789abcdef0123456789abcdef")]
pub struct Jwt;

#[::warden::protected(active, verified, mfa, fresh = 300, backend = Rsa)]
async fn me(user: ::warden::User) -> ::std::string::String {
    user.email
}

#[::warden::protected(optional, superuser)]
async fn maybe(user: ::std::option::Option<::warden::User>) -> &'static str {
    match user {
        ::std::option::Option::Some(_) => "someone",
        ::std::option::Option::None => "nobody",
    }
}

#[::warden::protected]
async fn hidden() -> &'static str {
    "ok"
}

#[::warden::user_model(id = i64)]
pub struct Member {
    #[user(read, create, update)]
    pub first_name: ::std::string::String,
    #[user(read, default = "free")]
    pub plan: ::std::string::String,
    #[user(read, create, update)]
    pub nickname: ::std::option::Option<::std::string::String>,
    #[user(update, default = 3)]
    pub level: i32,
}

#[::warden::protected(active)]
async fn member(user: Member) -> ::std::string::String {
    user.first_name
}

fn main() {
    let _ = (Rsa::strategy(), Jwt::strategy());
    let _: ::axum::Router<::warden::Warden> = ::axum::Router::new()
        .route("/me", ::axum::routing::get(me))
        .route("/maybe", ::axum::routing::get(maybe))
        .route("/hidden", ::axum::routing::get(hidden));
    let _: ::axum::Router<::warden::Warden<Member>> =
        ::axum::Router::new().route("/member", ::axum::routing::get(member));
}
