mod config;
mod paths;

fn main() {}
