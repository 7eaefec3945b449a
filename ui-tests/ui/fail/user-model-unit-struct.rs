#[warden::user_model]
pub struct Member;

fn main() {}
