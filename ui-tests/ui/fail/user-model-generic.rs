#[warden::user_model]
pub struct Member<T> {
    #[user(read, create)]
    pub extra: T,
}

fn main() {}
