//! The real console in a real terminal: `weir run --engine sim` inside a detached tmux session
//! of fixed size. Checks that the panels show live numbers, that `q`, Ctrl-C (once: graceful,
//! twice: at once), SIGTERM, a worker panic and a panic that aborts the process all end with
//! the terminal restored (alternate screen left, canonical mode back, cursor shown), and the
//! exit code and summary each case calls for.
//!
//! Needs `tmux` on the PATH (`scripts/test.sh` installs it). Polls use generous deadlines
//! only to avoid hanging forever; nothing here asserts on timing.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(90);

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, size: (u16, u16), command: &str) -> Self {
        let tmux = Self {
            socket: format!("weir-test-{}-{name}", std::process::id()),
        };
        let shell = format!(
            "{command}; echo \"EXIT=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon | sed 's/^/TTY=/'; sleep 600"
        );
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &size.0.to_string(),
            "-y",
            &size.1.to_string(),
            "sh",
            "-c",
            &shell,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed (scripts/test.sh installs it when missing)")
    }

    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The pane with its scrollback.
    fn capture_all(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-S", "-", "-t", "t"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn cursor_shown(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{cursor_flag}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// The pid of the command the pane's shell runs (weir).
    fn weir_pid(&self) -> u32 {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("the pane's shell has a task list");
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .expect("weir runs under the pane's shell")
    }

    fn alternate_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn send(&self, keys: &str) {
        let out = self.run(&["send-keys", "-t", "t", keys]);
        assert!(out.status.success(), "send-keys {keys}");
    }

    /// Polls the pane until `done` holds; panics with the last capture at the deadline.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if done(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "gave up waiting for {what}; the pane shows:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn weir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_weir"))
}

fn command(env: &str, flags: &str) -> String {
    format!(
        "env -u NO_COLOR {env} RUST_BACKTRACE=0 '{}' run nexmark --engine sim --workers 4 {flags}",
        weir().display()
    )
}

/// A number above zero followed by a rate unit, in the throughput title ("now 8.00M ev/s").
fn live_rate(screen: &str) -> bool {
    screen.split("now ").skip(1).any(|rest| {
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        number.parse::<f64>().is_ok_and(|v| v > 0.0) && rest.contains("ev/s")
    })
}

fn wait_live(tmux: &Tmux) -> String {
    let screen = tmux.wait_for("the console with live numbers", |s| {
        s.contains("RUNNING") && live_rate(s) && s.contains("p99")
    });
    assert!(
        tmux.alternate_on(),
        "the console runs on the alternate screen"
    );
    for panel in [
        "throughput",
        "latency",
        "workers",
        "watermark lag",
        "q quit",
    ] {
        assert!(screen.contains(panel), "missing panel {panel:?}:\n{screen}");
    }
    screen
}

fn wait_exit(tmux: &Tmux) -> String {
    tmux.wait_for("weir to exit", |s| {
        s.contains("EXIT=") && s.contains("TTY=")
    })
}

fn assert_restored(tmux: &Tmux, screen: &str) {
    assert!(!tmux.alternate_on(), "alternate screen left:\n{screen}");
    assert!(
        screen.contains("TTY=icanon"),
        "canonical mode restored:\n{screen}"
    );
    assert!(tmux.cursor_shown(), "cursor shown:\n{screen}");
}

#[test]
fn q_stops_the_job_restores_the_terminal_and_prints_the_summary() {
    let tmux = Tmux::start("q", (80, 24), &command("", "--duration 120"));
    let live = wait_live(&tmux);
    assert!(live.contains("nexmark q5"), "{live}");
    // Tab switches views while the job runs.
    tmux.send("Tab");
    tmux.wait_for("the workers view", |s| s.contains("per-worker throughput"));
    tmux.send("q");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(screen.contains("sim nexmark q5: "), "{screen}");
    assert_restored(&tmux, &screen);
    // The summary is taller than 24 lines: its head has scrolled off the screen.
    let all = tmux.capture_all();
    assert!(all.contains("stopped early"), "{all}");
    assert!(all.contains("Throughput"), "{all}");
    // The console's last frame stays on the normal screen, above the summary.
    let frame = all.find("q quit").expect("the final frame is kept");
    let summary = all.find("Throughput").expect("the summary");
    assert!(frame < summary, "{all}");
}

#[test]
fn ctrl_c_stops_the_job_and_still_prints_the_summary() {
    let tmux = Tmux::start("ctrlc", (100, 30), &command("", "--duration 120"));
    wait_live(&tmux);
    tmux.send("C-c");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert!(screen.contains("Throughput"), "{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn a_second_ctrl_c_exits_at_once_with_the_terminal_restored() {
    // The stopped job would take 10 minutes to drain its windows.
    let tmux = Tmux::start(
        "ctrlc2",
        (100, 30),
        &command("WEIR_SIM_STOP_DELAY_MS=600000", "--duration 120"),
    );
    wait_live(&tmux);
    tmux.send("C-c");
    tmux.wait_for("the console to say it stops", |s| s.contains("STOPPING"));
    tmux.send("C-c");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert!(screen.contains("exiting at once"), "{screen}");
    assert!(!screen.contains("Throughput"), "no summary:\n{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn sigterm_stops_the_console_run_with_the_summary_and_exit_143() {
    let tmux = Tmux::start("term", (100, 30), &command("", "--duration 120"));
    wait_live(&tmux);
    let ok = Command::new("kill")
        .args(["-TERM", &tmux.weir_pid().to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=143"), "{screen}");
    assert!(screen.contains("Throughput"), "{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn a_panic_that_aborts_the_process_still_restores_the_terminal() {
    // A second panic while unwinding makes Rust abort (as timely does when a cluster peer
    // dies): no unwinding, no Drop; the panic hook must restore the terminal first.
    let tmux = Tmux::start(
        "abort",
        (100, 30),
        &command(
            "WEIR_SIM_PANIC_AFTER_MS=2000 WEIR_SIM_PANIC_KIND=abort",
            "--duration 120",
        ),
    );
    wait_live(&tmux);
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=134"), "{screen}");
    assert!(screen.contains("injected worker panic"), "{screen}");
    assert!(screen.contains("injected second panic"), "{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn a_worker_panic_restores_the_terminal_and_exits_non_zero() {
    let tmux = Tmux::start(
        "panic",
        (100, 30),
        &command("WEIR_SIM_PANIC_AFTER_MS=2000", "--duration 120"),
    );
    wait_live(&tmux);
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert!(screen.contains("injected worker panic"), "{screen}");
    assert!(
        !screen.contains("Throughput"),
        "no summary for a failed job:\n{screen}"
    );
    assert_restored(&tmux, &screen);
}

#[test]
fn a_run_that_ends_by_itself_leaves_the_console_and_prints_the_summary() {
    let tmux = Tmux::start(
        "end",
        (80, 24),
        &command("", "--events 6000000 --rate 2000000"),
    );
    wait_live(&tmux);
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(!screen.contains("stopped early"), "{screen}");
    assert!(screen.contains("6,000,000 events"), "{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn plain_weir_run_shows_the_real_engine_live_and_q_stops_it() {
    // Exactly what a newcomer types: Nexmark q5 on weir's own engine, one worker per core.
    let tmux = Tmux::start(
        "newcomer",
        (80, 24),
        &format!(
            "env -u NO_COLOR RUST_BACKTRACE=0 '{}' run",
            weir().display()
        ),
    );
    let live = wait_live(&tmux);
    assert!(live.contains("nexmark q5"), "{live}");
    assert!(live.contains("│ weir │"), "the engine is weir:\n{live}");
    tmux.send("q");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(screen.contains("weir nexmark q5: "), "{screen}");
    assert!(screen.contains("0 dropped"), "{screen}");
    assert_restored(&tmux, &screen);
}

#[test]
fn the_dataflow_view_of_a_real_weir_run_lists_its_operators_and_names_the_busiest() {
    let tmux = Tmux::start(
        "dataflow",
        (120, 30),
        &format!(
            "env -u NO_COLOR RUST_BACKTRACE=0 '{}' run nexmark --query q5 --engine weir \
             --workers 2 --duration 120",
            weir().display()
        ),
    );
    wait_live(&tmux);
    tmux.send("4");
    let screen = tmux.wait_for("the dataflow view with rates", |s| {
        s.contains("view: dataflow") && s.contains("window_leaders") && s.contains("% busy")
    });
    for operator in ["source", "key_by", "window_leaders", "sink"] {
        assert!(screen.contains(operator), "missing {operator}:\n{screen}");
    }
    // The one-line verdict names an operator and a worker, either as the bottleneck or as the
    // busiest operator of a job that waits for its input.
    assert!(
        screen.contains("bottleneck: ") || screen.contains("no operator holds the job back"),
        "{screen}"
    );
    assert!(screen.contains("(q5) on w"), "{screen}");
    tmux.send("q");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("CPU "),
        "the summary has the CPU line:\n{screen}"
    );
    assert_restored(&tmux, &screen);
}

#[test]
fn the_dataflow_view_of_a_real_timely_run_shows_its_operators_from_timelys_log() {
    let tmux = Tmux::start(
        "dataflow-timely",
        (120, 30),
        &format!(
            "env -u NO_COLOR -u WEIR_TIMELY_OPERATORS RUST_BACKTRACE=0 '{}' run nexmark \
             --query q5 --engine timely --workers 2 --duration 120",
            weir().display()
        ),
    );
    wait_live(&tmux);
    tmux.send("4");
    let screen = tmux.wait_for("timely's operators with rates", |s| {
        s.contains("view: dataflow") && s.contains("Q5PaneCount") && s.contains("% busy")
    });
    // timely's own operator names, as its log reports them, from the source to the sink.
    for operator in [
        "Source",
        "FlatMap",
        "Q5PaneCount",
        "Q5GlobalMax",
        "DigestSink",
    ] {
        assert!(screen.contains(operator), "missing {operator}:\n{screen}");
    }
    // What timely's log cannot say is drawn n/a and explained, not shown as zero.
    assert!(
        screen.contains("n/a: not in timely's log"),
        "the n/a line:\n{screen}"
    );
    // Records cross workers, so the exchanges are marked.
    assert!(screen.contains('⇄'), "an exchange is marked:\n{screen}");
    assert!(screen.contains("(q5) on w"), "{screen}");
    tmux.send("q");
    let screen = wait_exit(&tmux);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_restored(&tmux, &screen);
}
