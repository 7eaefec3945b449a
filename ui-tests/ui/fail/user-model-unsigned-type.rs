#[warden::user_model]
pub struct Member {
    #[user(read, create)]
    pub age: u32,
}

fn main() {}
