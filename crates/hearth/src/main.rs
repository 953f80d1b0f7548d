mod paths;

fn main() {}
