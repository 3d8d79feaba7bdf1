//! Build script shared by the packages whose tests read `../shared/` (the
//! data sets beside the repository). It sets `cfg(shared_data)` when that
//! folder is there, or when `CI` is set: under CI those tests then run and
//! fail if the data is missing, instead of passing silently. Without the
//! cfg they are `#[ignore]`d with a reason, which `cargo test` prints.
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    // The packages live at the repository root or two levels below it.
    let root = [".", "../.."]
        .iter()
        .map(|up| Path::new(&manifest).join(up))
        .find(|dir| dir.join("Cargo.lock").exists())
        .expect("the repository root holds Cargo.lock");
    let marker = root.join("../shared/README.md");
    println!("cargo::rustc-check-cfg=cfg(shared_data)");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-changed={}", marker.display());
    let ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    if ci || marker.exists() {
        println!("cargo::rustc-cfg=shared_data");
    }
}
