use warden::protected;

pub struct NotABackend;

#[protected(backend = NotABackend)]
async fn ping() -> &'static str {
    "pong"
}

fn main() {}
