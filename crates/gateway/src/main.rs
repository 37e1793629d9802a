//! The `order-gateway` binary: its memory allocator, then the CLI.

fn main() {
    std::process::exit(gateway::cli::main(&allocator::describe()).code());
}

/// mimalloc (feature `mimalloc`, on by default): about 1.4x the orders/s of glibc malloc
/// at saturation. glibc spent a sixth of the gateway's CPU in malloc/free and in futex
/// waits on its arena locks (an order's buffers are allocated on one thread and freed
/// on another: tokio workers, the ledger writer).
///
/// Two defaults differ from mimalloc's, because with them mimalloc's peak RSS with
/// 1,000 orders in flight was ~35 % above glibc's: its arenas are committed eagerly and
/// advised as transparent huge pages (one touched byte makes 2 MiB resident), and freed
/// pages go back to the OS only after a delay. With eager commit off and purging at
/// once, the peak is at or below glibc's (BENCHMARKS.md, "Allocator"). `MIMALLOC_*`
/// environment variables still override both.
#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
mod allocator {
    use std::ffi::c_int;

    #[global_allocator]
    static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

    // `enum mi_option_e` in mimalloc.h (the same numbers in its v2 and v3);
    // libmimalloc-sys does not export them as constants.
    const ARENA_EAGER_COMMIT: c_int = 4;
    const PURGE_DELAY: c_int = 15;

    /// Runs from `.init_array`, before `main` and before the first Rust allocation: that
    /// allocation reserves mimalloc's first arena, which is committed as the option says
    /// at that moment.
    extern "C" fn set_defaults() {
        // SAFETY: `mi_option_set_default` stores a value in mimalloc's option table when
        // the option was not set from the environment; it takes no pointers. This runs
        // once, on the loading thread, before any other thread exists.
        unsafe {
            libmimalloc_sys::mi_option_set_default(ARENA_EAGER_COMMIT, 0);
            libmimalloc_sys::mi_option_set_default(PURGE_DELAY, 0);
        }
    }

    #[used]
    #[cfg_attr(
        any(target_os = "linux", target_os = "android", target_os = "freebsd"),
        unsafe(link_section = ".init_array")
    )]
    #[cfg_attr(target_os = "macos", unsafe(link_section = "__DATA,__mod_init_func"))]
    static SET_DEFAULTS: extern "C" fn() = set_defaults;

    /// The allocator and the two settings as they are in effect (for the startup log).
    pub fn describe() -> String {
        // SAFETY: `mi_option_get` reads an option (initialising it from `MIMALLOC_*` on its
        // first read); it takes no pointers.
        let (commit, purge) = unsafe {
            (
                libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT),
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
            )
        };
        format!("mimalloc (arena_eager_commit={commit}, purge_delay_ms={purge})")
    }
}

#[cfg(not(feature = "mimalloc"))]
mod allocator {
    pub fn describe() -> String {
        "system malloc".to_owned()
    }
}
