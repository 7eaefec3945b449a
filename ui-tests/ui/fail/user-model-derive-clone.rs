#[warden::user_model]
#[derive(Clone, Default)]
pub struct Member {
    #[user(read, create)]
    pub first_name: String,
}

fn main() {}
