// Feature `mimalloc`: trades peak memory for throughput; BENCHMARKS.md has the A/B.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(gateway::cli::main().code());
}
