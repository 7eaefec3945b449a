use warden::{User, protected};

#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
}

#[protected(active, scope = Scope::ReportsReed)]
async fn reports(user: User) -> String {
    user.email
}

fn main() {}
