//! This directory is the `warden-tests` package, whose manifest lists each test file
//! (`autotests = false`: cargo discovers tests only in a package's own `tests/`
//! folder). A file added here without its `[[test]]` entry would never run; this
//! test names it instead.

use std::path::Path;

#[test]
fn every_test_file_is_a_test_target() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("tests/Cargo.toml");
    let listed: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("path = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .collect();
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the tests directory") {
        let name = entry.expect("a directory entry").file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".rs") && !listed.contains(&name.as_ref()) {
            missing.push(name.into_owned());
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "add to tests/Cargo.toml, one each: [[test]] name = \"<file stem>\" path = \"<file>\"; missing: {}",
        missing.join(", ")
    );
}
