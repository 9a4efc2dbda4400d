//! Criterion benchmarks of weir's parts live in `benches/`; this library is empty on purpose.
