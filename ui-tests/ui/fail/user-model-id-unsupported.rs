#[warden::user_model(id = String)]
pub struct Member {}

fn main() {}
