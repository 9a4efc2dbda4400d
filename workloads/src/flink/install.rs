//! Where Flink is installed and how its JVM is started: the layer below both the local
//! MiniCluster driver (`flink.rs`) and the cluster client (`cluster.rs`), which share it.
//!
//! `scripts/setup-flink.sh` puts Flink's jars in `.flink/site/pyflink/lib` and weir's compiled
//! job in `.flink/classes`; [`Install::locate`] finds them (no I/O beyond two `is_file` checks
//! per candidate directory) and [`Install::java`] builds the `java` command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::job::{Result, RunError};

/// The Flink version `scripts/setup-flink.sh` installs.
pub const FLINK_VERSION: &str = "2.3.0";

/// What to run when Flink is missing.
pub const SETUP_HINT: &str = "Flink is not set up: run scripts/setup-flink.sh";

/// JVM flags of every Flink run: a fixed 4 GiB heap (no resizing during a measurement) and G1,
/// the JVM's and Flink's default collector, named so it cannot change under us.
pub const JVM_FLAGS: &[&str] = &["-Xms4g", "-Xmx4g", "-XX:+UseG1GC", "-Dfile.encoding=UTF-8"];

/// Added to [`JVM_FLAGS`] for a run with `--pretouch` (`RunSpec::jvm_pretouch`): the JVM
/// writes its whole heap (the 4 GiB of `-Xms4g`) before the job starts, so that the job's
/// objects land on memory already faulted in, as `--pretouch` arranges for the engines in the
/// weir process.
pub const PRETOUCH_FLAG: &str = "-XX:+AlwaysPreTouch";

/// The flags of a local MiniCluster's JVM: [`JVM_FLAGS`], then [`PRETOUCH_FLAG`] when
/// `pretouch`.
pub fn local_jvm_flags(pretouch: bool) -> Vec<&'static str> {
    let mut flags = JVM_FLAGS.to_vec();
    if pretouch {
        flags.push(PRETOUCH_FLAG);
    }
    flags
}

/// A Flink installation made by `scripts/setup-flink.sh`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Install {
    /// `.flink/classes`: weir's compiled Java job.
    pub classes: PathBuf,
    /// `.flink/site/pyflink/lib`: Flink's jars.
    pub lib: PathBuf,
}

impl Install {
    /// Finds the installation: `$WEIR_FLINK_DIR`, else `.flink` in the current directory, else
    /// `.flink` at the root of the source tree weir was built from.
    ///
    /// # Errors
    /// [`RunError::Setup`] naming the setup command when no complete installation exists.
    pub fn locate() -> Result<Self> {
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::var_os("WEIR_FLINK_DIR") {
            candidates.push(PathBuf::from(dir));
        }
        candidates.push(PathBuf::from(".flink"));
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.flink"));
        candidates
            .iter()
            .find_map(|dir| Self::at(dir))
            .ok_or_else(|| {
                RunError::Setup(format!(
                    "{SETUP_HINT} (looked for {} in $WEIR_FLINK_DIR, ./.flink and {})",
                    Path::new("site/pyflink/lib")
                        .join(format!("flink-dist-{FLINK_VERSION}.jar"))
                        .display(),
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../.flink")
                        .display()
                ))
            })
    }

    /// The installation in `dir`, if complete.
    pub fn at(dir: &Path) -> Option<Self> {
        let lib = dir.join("site/pyflink/lib");
        let classes = dir.join("classes");
        (lib.join(format!("flink-dist-{FLINK_VERSION}.jar"))
            .is_file()
            && classes.join("weir/flink/Main.class").is_file())
        .then_some(Self { classes, lib })
    }

    /// `java` with [`JVM_FLAGS`] and the class path, ready for `weir.flink.Main`'s arguments.
    pub fn java(&self) -> Command {
        self.java_with(JVM_FLAGS)
    }

    /// `java` with `flags` and the class path, ready for `weir.flink.Main`'s arguments.
    pub fn java_with(&self, flags: &[&str]) -> Command {
        let mut cmd = Command::new("java");
        cmd.args(flags)
            .arg("-cp")
            .arg(format!(
                "{}:{}/*",
                self.classes.display(),
                self.lib.display()
            ))
            .arg("weir.flink.Main");
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_install_needs_both_the_jars_and_the_compiled_job() {
        let dir = std::env::temp_dir().join(format!("weir-flink-install-{}", std::process::id()));
        let lib = dir.join("site/pyflink/lib");
        let classes = dir.join("classes/weir/flink");
        std::fs::create_dir_all(&lib).expect("temp dir");
        std::fs::create_dir_all(&classes).expect("temp dir");
        std::fs::write(lib.join(format!("flink-dist-{FLINK_VERSION}.jar")), b"").expect("write");
        assert_eq!(Install::at(&dir), None, "no compiled job yet");
        std::fs::write(classes.join("Main.class"), b"").expect("write");
        let install = Install::at(&dir).expect("complete");
        let cmd = install.java();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(&args[..JVM_FLAGS.len()], JVM_FLAGS);
        assert_eq!(args[JVM_FLAGS.len()], "-cp");
        assert!(args[JVM_FLAGS.len() + 1].ends_with("site/pyflink/lib/*"));
        assert_eq!(args.last().map(String::as_str), Some("weir.flink.Main"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_heap_is_pre_touched_only_when_asked() {
        assert_eq!(local_jvm_flags(false), JVM_FLAGS);
        let flags = local_jvm_flags(true);
        assert_eq!(&flags[..JVM_FLAGS.len()], JVM_FLAGS);
        assert_eq!(flags[JVM_FLAGS.len()..], [PRETOUCH_FLAG]);
        assert!(JVM_FLAGS.iter().all(|f| !f.contains("PreTouch")));
    }
}
