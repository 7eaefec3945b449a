#[warden::user_model]
pub struct Member(String);

fn main() {}
