#[warden::user_model(id = i32)]
pub struct Member {}

fn main() {}
