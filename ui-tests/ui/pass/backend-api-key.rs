use warden::{User, auth_backend, protected};

#[auth_backend(name = "api", strategy = "api_key")]
pub struct Api;

#[auth_backend(name = "api-header", strategy = "api_key", transport = header("X-API-Key"))]
pub struct ApiHeader;

#[derive(Clone, Copy, warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
    #[scope("reports:write")]
    ReportsWrite,
}

#[protected(active, scope = Scope::ReportsRead)]
async fn reports(user: User) -> String {
    user.email
}

#[protected(active, verified, superuser, fresh = 60, mfa, scope = Scope::ReportsWrite, backend = Api)]
async fn everything(user: User) -> String {
    user.email
}

fn main() {
    let _ = (reports, everything);
    let _ = <Api as warden::backend::AuthBackend>::CONFIG;
    let _ = <ApiHeader as warden::backend::AuthBackend>::CONFIG;
}
