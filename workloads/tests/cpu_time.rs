//! `CpuMark::engine_since` counts the other threads of the process and leaves out the thread
//! that made the mark. Alone in its test binary, so no other test's threads add CPU time.

use weir_workloads::cpu::{CpuMark, CpuTime};

/// Spins until the calling thread has used `seconds` more CPU time (by the kernel's count).
fn burn(seconds: f64) {
    let start = CpuTime::thread().expect("/proc is readable").total_s();
    let mut x = 0_u64;
    while CpuTime::thread().expect("/proc is readable").total_s() - start < seconds {
        for _ in 0..100_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
    }
    std::hint::black_box(x);
}

#[test]
fn the_engine_threads_count_and_the_watching_thread_does_not() {
    let Some(mark) = CpuMark::now() else {
        eprintln!("no /proc on this system: nothing to check");
        return;
    };
    std::thread::spawn(|| burn(0.3)).join().expect("the worker");
    burn(0.3);
    let engine = mark.engine_since().expect("/proc is readable");
    // The worker's 0.3 s is in (a tick of 0.01 s either way); the marking thread's own 0.3 s
    // is not (with it the total would pass 0.6 s).
    assert!(engine.total_s() >= 0.29, "{engine:?}");
    assert!(engine.total_s() < 0.45, "{engine:?}");
}
