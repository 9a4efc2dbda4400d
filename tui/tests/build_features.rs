//! Which engines a build has. The default build has every engine; `cargo build -p weir-tui
//! --no-default-features` builds a weir-only `weir` that links neither timely nor
//! differential, says so in `weir list`, and refuses the engines it lacks with exit code 2 and
//! the cargo feature that builds them. `scripts/test.sh` runs this file in both builds, so
//! each branch below runs in CI.

use assert_cmd::Command;
use predicates::str::contains;
use weir_workloads::catalog::EngineKind;

fn weir() -> Command {
    let mut cmd = Command::cargo_bin("weir").expect("the weir binary is built for tests");
    cmd.env_remove("NO_COLOR");
    cmd
}

fn missing() -> Vec<EngineKind> {
    EngineKind::ALL
        .iter()
        .copied()
        .filter(|e| !e.is_built())
        .collect()
}

#[test]
fn engines_this_build_lacks_are_refused_with_the_feature_that_builds_them() {
    for engine in missing() {
        let feature = engine
            .feature()
            .expect("only optional engines can be missing");
        weir()
            .args([
                "run",
                "--engine",
                engine.as_str(),
                "--events",
                "1000",
                "--no-tui",
            ])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(format!(
                "this weir was built without the {engine} engine (--engine {engine})"
            )))
            .stderr(contains(format!("--features {feature}")));
    }
}

#[test]
fn engines_this_build_has_run() {
    // timely stands for the optional engines that need nothing installed (Flink needs its
    // jars: its own tests run it).
    for engine in [EngineKind::Weir, EngineKind::Timely] {
        if !engine.is_built() {
            continue;
        }
        weir()
            .args(["run", "--engine", engine.as_str(), "--query", "q5"])
            .args(["--events", "20000", "--workers", "1", "--no-tui", "--quiet"])
            .assert()
            .success()
            .stdout(contains(format!("{engine} nexmark q5")));
    }
}

#[test]
fn run_help_says_which_engines_the_build_lacks() {
    let out = weir()
        .args(["run", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    // Help text wraps; compare with whitespace runs folded to one space.
    let text = String::from_utf8(out)
        .expect("utf-8")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let missing: Vec<&str> = missing().iter().map(|e| e.as_str()).collect();
    assert_eq!(
        text.contains(&format!("(this build lacks {})", missing.join(", "))),
        !missing.is_empty(),
        "{text}"
    );
}

#[test]
fn weir_list_says_which_engines_the_build_lacks() {
    let out = weir()
        .arg("list")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    let missing = missing();
    if missing.is_empty() {
        assert!(!text.contains("not in this build"), "{text}");
    } else {
        let names: Vec<&str> = missing.iter().map(|e| e.as_str()).collect();
        assert!(
            text.contains(&format!("not in this build: {}", names.join(", "))),
            "{text}"
        );
    }
    // The weir-only build is what `--no-default-features` gives: weir and the sim only.
    if !EngineKind::Timely.is_built() {
        assert_eq!(
            missing,
            [
                EngineKind::Timely,
                EngineKind::Differential,
                EngineKind::Flink
            ]
        );
    }
}
