#[warden::user_model]
pub struct Member {
    #[user(read, create)]
    pub name: Sting,
}

fn main() {}
