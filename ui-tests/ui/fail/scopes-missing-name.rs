#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead,
    ReportsWrite,
}

fn main() {}
