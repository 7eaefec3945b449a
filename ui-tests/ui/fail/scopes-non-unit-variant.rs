#[derive(warden::Scopes)]
enum Scope {
    #[scope("reports:read")]
    ReportsRead(u32),
    #[scope("reports:write")]
    ReportsWrite = 7,
}

fn main() {}
