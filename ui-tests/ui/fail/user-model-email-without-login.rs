#[warden::user_model(email)]
pub struct Member {}

fn main() {}
