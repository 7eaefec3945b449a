use warden::protected;

#[protected(optional)]
async fn greet() -> &'static str {
    "Hello!"
}

fn main() {}
