use warden::{User, protected};

#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
}

#[protected(optional, scope = Scope::ReportsRead)]
async fn reports(user: Option<User>) -> String {
    user.map(|user| user.email).unwrap_or_default()
}

fn main() {}
