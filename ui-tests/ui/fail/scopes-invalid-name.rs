#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports read")]
    ReportsRead,
    #[scope("")]
    Empty,
}

fn main() {}
