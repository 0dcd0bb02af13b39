//! Nothing to build: this script exists so that Cargo resolves the
//! `[build-dependencies]` of Cargo.toml, which align the features of host
//! crates (proc macros) between `cargo build` and `cargo test` (see there).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
}
