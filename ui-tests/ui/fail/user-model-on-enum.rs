#[warden::user_model]
pub enum Member {
    Free,
    Paid,
}

fn main() {}
