//! `weir run --metrics-addr HOST:PORT`: the live metrics in the Prometheus text format at
//! `/metrics`.
//!
//! A scrape reads the job's latest [`MetricsSnapshot`] from its collector (the same one the
//! console draws) and encodes it with `prometheus-client`'s Prometheus text encoder; nothing is
//! copied between scrapes and nothing runs on the engine's threads. Every name starts with
//! `weir_`:
//!
//! | metric | type | what |
//! | --- | --- | --- |
//! | `weir_info{engine,workload,query}` | gauge (1) | what runs |
//! | `weir_events_total` | counter | events produced by the sources |
//! | `weir_results_total` | counter | result rows delivered to the sinks |
//! | `weir_late_records_total` | counter | records that arrived after their window closed |
//! | `weir_dropped_records_total` | counter | records dropped for any other reason |
//! | `weir_worker_events_total{worker}` | counter | events per worker |
//! | `weir_worker_{busy,idle,backpressured,held}_seconds_total{worker}` | counter | time split (held: (3)) |
//! | `weir_operator_state_records{worker,operator}` | gauge | records a stateful operator holds (2) |
//! | `weir_watermark_lag_seconds` | gauge | newest event time minus the frontier |
//! | `weir_latency_seconds{quantile}` | gauge | result latency p50, p99, p99.9, max (1) |
//! | `weir_latency_samples` | gauge | latency samples so far |
//! | `weir_exchange_fill_max_ratio` | gauge | fullest exchange ring since the last snapshot |
//! | `weir_elapsed_seconds` | gauge | job time |
//! | `weir_finished` | gauge | 1 once the job ended |
//!
//! (2) Only for operators that report their state: weir's regular and lookup joins and its
//! partitioned file sink.
//!
//! (3) Idle time while a source was held back by source alignment, waiting for a slower
//! worker's share of the input: weir only (the other engines' sources are not aligned).
//!
//! A metric the engine cannot observe (timely's backpressure, Flink's exchange fill, latency
//! before the first result) is left out rather than reported as zero.
//!
//! The server is one thread (`weir-metrics`) answering one connection at a time (scrapes are
//! rare and small): `GET /metrics` gets the metrics, `GET /` a pointer to them, anything else
//! 404 or 405. A client has 2 s to send its request. The thread ends when the
//! [`MetricsServer`] is dropped.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_client::collector::Collector as PromCollector;
use prometheus_client::encoding::prometheus_text::{CONTENT_TYPE, encode};
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use weir_engine::{Collector, MetricsSnapshot};
use weir_workloads::job::RunSpec;

/// How often the accept loop looks at its stop flag.
const POLL: Duration = Duration::from_millis(25);
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head read.
const MAX_REQUEST: usize = 8 * 1024;

/// The running server; dropping it stops the thread.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A bound address, not serving yet (so a bad `--metrics-addr` is refused before the job
/// starts).
#[derive(Debug)]
pub struct Bound(TcpListener);

impl Bound {
    /// Serves `collector`'s metrics for the job of `spec`.
    ///
    /// # Errors
    /// When the socket cannot be set up or the thread cannot start.
    pub fn serve(self, collector: Collector, spec: &RunSpec) -> io::Result<MetricsServer> {
        let listener = self.0;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut registry = Registry::default();
        registry.register_collector(Box::new(JobMetrics {
            collector,
            engine: spec.engine.to_string(),
            workload: spec.workload().to_string(),
            query: spec.query.name().to_string(),
        }));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("weir-metrics".into())
            .spawn(move || serve(&listener, &registry, &flag))?;
        Ok(MetricsServer {
            addr: local,
            stop,
            thread: Some(thread),
        })
    }
}

impl MetricsServer {
    /// Binds `addr` (`HOST:PORT`; port 0 picks a free one).
    ///
    /// # Errors
    /// When the address cannot be bound (in use, not local, malformed).
    pub fn bind(addr: &str) -> io::Result<Bound> {
        TcpListener::bind(addr).map(Bound)
    }

    /// Binds `addr` and serves `collector`'s metrics.
    ///
    /// # Errors
    /// As [`MetricsServer::bind`] and [`Bound::serve`].
    pub fn start(addr: &str, collector: Collector, spec: &RunSpec) -> io::Result<Self> {
        Self::bind(addr)?.serve(collector, spec)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: &TcpListener, registry: &Registry, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client that misbehaves only loses its own answer.
                let _ = answer(stream, registry);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
}

fn answer(mut stream: TcpStream, registry: &Registry) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(READ_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let mut text = String::new();
            match encode(&mut text, registry) {
                Ok(()) => ("200 OK", CONTENT_TYPE, text),
                Err(_) => (
                    "500 Internal Server Error",
                    "text/plain",
                    "encoding failed\n".into(),
                ),
            }
        }
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "weir: metrics at /metrics\n".into(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: weir serves /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "use GET\n".into(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        response.push_str(&body);
    }
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

/// Reads up to the blank line that ends an HTTP request head.
fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// Encodes the job's latest snapshot at every scrape.
#[derive(Debug)]
struct JobMetrics {
    collector: Collector,
    engine: String,
    workload: String,
    query: String,
}

/// One unlabelled metric: its descriptor, then its value.
fn constant(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    metric: &impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    metric.encode(encoder.encode_descriptor(name, help, unit, metric.metric_type())?)
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    constant(encoder, name, help, unit, &ConstCounter::new(value))
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    constant(encoder, name, help, unit, &ConstGauge::new(value))
}

/// One value per worker, labelled `worker`.
fn per_worker(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    values: &[f64],
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, unit, MetricType::Counter)?;
    for (worker, value) in values.iter().enumerate() {
        let labels = [("worker", worker.to_string())];
        ConstCounter::new(*value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// The state each stateful operator reports, labelled `worker` and `operator` (operators that
/// report none are left out; none at all: no family).
fn operator_state(
    encoder: &mut DescriptorEncoder<'_>,
    snapshot: &MetricsSnapshot,
) -> Result<(), std::fmt::Error> {
    let states: Vec<(usize, &str, u64)> = snapshot
        .workers
        .iter()
        .enumerate()
        .flat_map(|(w, m)| {
            m.operators
                .iter()
                .filter_map(move |o| o.state_records.map(|n| (w, o.name.as_str(), n)))
        })
        .collect();
    if states.is_empty() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(
        "weir_operator_state_records",
        "Records each stateful operator holds in its state (per worker).",
        None,
        MetricType::Gauge,
    )?;
    for (worker, operator, records) in states {
        let labels = [
            ("worker", worker.to_string()),
            ("operator", operator.to_string()),
        ];
        ConstGauge::new(records as f64).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl PromCollector for JobMetrics {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s: MetricsSnapshot = self.collector.latest();
        let seconds = Some(&Unit::Seconds);
        {
            let mut info = e.encode_descriptor(
                "weir_info",
                "What this weir process runs (always 1).",
                None,
                MetricType::Gauge,
            )?;
            let labels = [
                ("engine", self.engine.as_str()),
                ("workload", self.workload.as_str()),
                ("query", self.query.as_str()),
            ];
            ConstGauge::new(1_i64).encode(info.encode_family(&labels)?)?;
        }
        let e = &mut e;
        counter(
            e,
            "weir_events",
            "Events produced by the sources.",
            None,
            s.events_in() as f64,
        )?;
        counter(
            e,
            "weir_results",
            "Result rows delivered to the sinks.",
            None,
            s.records_out() as f64,
        )?;
        counter(
            e,
            "weir_late_records",
            "Records that arrived after every window holding them had fired.",
            None,
            s.late() as f64,
        )?;
        let dropped = s.dropped();
        counter(
            e,
            "weir_dropped_records",
            "Records dropped for any reason other than lateness.",
            None,
            dropped as f64,
        )?;
        let of = |f: fn(&weir_engine::WorkerMetrics) -> u64, scale: f64| -> Vec<f64> {
            s.workers.iter().map(|w| f(w) as f64 * scale).collect()
        };
        per_worker(
            e,
            "weir_worker_events",
            "Events produced by each worker's sources.",
            None,
            &of(|w| w.events_in, 1.0),
        )?;
        let ns = 1e-9;
        per_worker(
            e,
            "weir_worker_busy",
            "Time each worker spent moving records.",
            seconds,
            &of(|w| w.busy_ns, ns),
        )?;
        per_worker(
            e,
            "weir_worker_idle",
            "Time each worker had nothing to do.",
            seconds,
            &of(|w| w.idle_ns, ns),
        )?;
        if s.workers.iter().any(|w| w.backpressured_ns > 0) || self.engine == "weir" {
            per_worker(
                e,
                "weir_worker_backpressured",
                "Time each worker waited for room in a full exchange queue.",
                seconds,
                &of(|w| w.backpressured_ns, ns),
            )?;
        }
        if s.workers.iter().any(|w| w.held_ns > 0) || self.engine == "weir" {
            per_worker(
                e,
                "weir_worker_held",
                "Time each worker had nothing else to do while its source waited for a slower \
                 worker's (source alignment).",
                seconds,
                &of(|w| w.held_ns, ns),
            )?;
        }
        if let (Some(source), Some(watermark)) = (s.source_time_ms, s.watermark_ms)
            && watermark != i64::MAX
        {
            gauge(
                e,
                "weir_watermark_lag",
                "Newest event time produced minus the job's watermark (event time).",
                seconds,
                source.saturating_sub(watermark).max(0) as f64 / 1e3,
            )?;
        }
        if let Some(h) = s.latency_ns.as_ref().filter(|h| !h.is_empty()) {
            // A block: the family borrows the encoder until it ends.
            {
                let mut family = e.encode_descriptor(
                    "weir_latency",
                    "Result latency since the start, by quantile (1 = the maximum).",
                    seconds,
                    MetricType::Gauge,
                )?;
                for (q, value) in [
                    ("0.5", h.value_at_quantile(0.5)),
                    ("0.99", h.value_at_quantile(0.99)),
                    ("0.999", h.value_at_quantile(0.999)),
                    ("1", h.max()),
                ] {
                    let labels = [("quantile", q)];
                    ConstGauge::new(value as f64 * ns).encode(family.encode_family(&labels)?)?;
                }
            }
            gauge(
                e,
                "weir_latency_samples",
                "Latency samples recorded so far.",
                None,
                h.len() as f64,
            )?;
        }
        if let Some(fill) = &s.exchange_fill {
            let max = fill.iter().flatten().copied().fold(0.0_f32, f32::max);
            gauge(
                e,
                "weir_exchange_fill_max",
                "The fullest exchange queue since the last snapshot (0 to 1).",
                Some(&Unit::Ratios),
                f64::from(max),
            )?;
        }
        operator_state(e, &s)?;
        gauge(
            e,
            "weir_elapsed",
            "Job time since the job's clock started.",
            seconds,
            s.elapsed_ns as f64 * ns,
        )?;
        gauge(
            e,
            "weir_finished",
            "1 once the job has ended.",
            None,
            if s.finished { 1.0 } else { 0.0 },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use weir_engine::{Collector, MetricsSnapshot, WorkerMetrics};
    use weir_workloads::catalog::{EngineKind, Query};
    use weir_workloads::job::RunSpec;

    use super::MetricsServer;

    fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).expect("connect");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("read");
        text
    }

    #[test]
    fn serves_the_latest_snapshot_with_weir_names() {
        let collector = Collector::new();
        collector.publish(MetricsSnapshot {
            elapsed_ns: 2_000_000_000,
            workers: vec![
                WorkerMetrics {
                    events_in: 10,
                    records_out: 3,
                    late: 1,
                    busy_ns: 1_500_000_000,
                    ..WorkerMetrics::default()
                };
                2
            ],
            source_time_ms: Some(10_000),
            watermark_ms: Some(6_000),
            ..MetricsSnapshot::default()
        });
        let spec = RunSpec::new(Query::Q5, EngineKind::Weir);
        let server = MetricsServer::start("127.0.0.1:0", collector, &spec).expect("bind");
        let text = get(server.addr(), "/metrics");
        assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
        for line in [
            "weir_events_total 20",
            "weir_results_total 6",
            "weir_late_records_total 2",
            "weir_worker_busy_seconds_total{worker=\"1\"} 1.5",
            "weir_watermark_lag_seconds 4.0",
            "weir_info{engine=\"weir\",workload=\"nexmark\",query=\"q5\"} 1",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        assert!(get(server.addr(), "/nope").starts_with("HTTP/1.1 404"));
    }
}
