#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
    #[scope("reports:read")]
    ReportsWrite,
}

fn main() {}
