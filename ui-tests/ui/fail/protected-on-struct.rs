use warden::protected;

#[protected(active)]
pub struct Me;

fn main() {}
