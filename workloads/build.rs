//! Records the git commit and rustc version in the build, for run reports.
use std::process::Command;

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    if let Some(commit) = output("git", &["rev-parse", "--short=12", "HEAD"]) {
        println!("cargo:rustc-env=WEIR_GIT_COMMIT={commit}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Some(v) = output(&rustc, &["--version"]) {
        println!("cargo:rustc-env=WEIR_RUSTC_VERSION={v}");
    }
    // Rebuild when the commit changes: HEAD moves to another branch, the branch's ref moves (a
    // commit), or refs are packed. Paths come from git itself, so worktrees work too; only
    // files that exist are watched (a missing one would rerun this script on every build).
    let git_path = |what: &str| output("git", &["rev-parse", "--path-format=absolute", what]);
    if let (Some(git_dir), Some(common)) = (git_path("--git-dir"), git_path("--git-common-dir")) {
        let mut watch = vec![std::path::Path::new(&git_dir).join("HEAD")];
        if let Some(head_ref) = output("git", &["symbolic-ref", "-q", "HEAD"]) {
            watch.push(std::path::Path::new(&common).join(head_ref));
        }
        watch.push(std::path::Path::new(&common).join("packed-refs"));
        for path in watch.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
