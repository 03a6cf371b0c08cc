//! `mesoswarm`: the command line.

fn main() {
    eprintln!("mesoswarm: the daemon is being built (see README)");
    std::process::exit(2);
}
