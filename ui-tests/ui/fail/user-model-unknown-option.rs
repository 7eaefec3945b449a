#[warden::user_model(ids = i64)]
pub struct Member {}

fn main() {}
