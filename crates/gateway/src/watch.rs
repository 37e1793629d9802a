//! Hot reload on file change. Only the files the running config uses are watched: the
//! config file and its catalog files, through their directories (editors and Kubernetes
//! replace files rather than write them, and a ConfigMap swaps its `..data` symlink in
//! the config's directory), never recursively. Anything else changing there (a log
//! file, a backup) is noise, logged at debug.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::Watcher;

use crate::server::reload;
use crate::state::AppState;

/// A ConfigMap update is several file events; they settle within this.
const SETTLE: Duration = Duration::from_millis(300);
/// How soon a file that could not be read is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// Keeps the watch alive; dropping it stops watching.
pub struct ConfigWatcher {
    _watcher: Arc<Mutex<notify::RecommendedWatcher>>,
}

/// Why the config files cannot be watched (serving goes on without hot reload).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{0}")]
    Notify(#[source] notify::Error),
    #[error("{}: {source}", dir.display())]
    Directory {
        dir: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("config watcher lock poisoned")]
    Poisoned,
}

/// A config file that could not be read to see whether it changed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
struct Unreadable {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

pub fn watch_config(state: Arc<AppState>) -> Result<ConfigWatcher, WatchError> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let filter = state.clone();
    let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        match ev {
            // Access events are our own reads of the config (the hash check and the
            // reload itself); reacting to them re-read a refused config about three
            // times a second.
            Ok(ev) if matches!(ev.kind, notify::EventKind::Access(_)) => {}
            Ok(ev) if ev.paths.iter().any(|p| concerns_config(&filter, p)) => {
                let _ = tx.send(());
            }
            Ok(ev) => {
                tracing::debug!(paths = ?ev.paths, "config watcher: not a config file, ignored")
            }
            Err(e) => tracing::debug!(error = %e, "config watcher: notify error"),
        }
    })
    .map_err(WatchError::Notify)?;
    let watcher = Arc::new(Mutex::new(watcher));
    let mut watched = BTreeSet::new();
    add_watches(&watcher, &mut watched, &state)?;
    let keep = watcher.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            tokio::time::sleep(SETTLE).await;
            while rx.try_recv().is_ok() {}
            // Before reading: after a ConfigMap swap the files resolve to a new
            // directory, and an edit there right after this reload must be seen.
            watch_new(&keep, &mut watched, &state);
            settle(&state, &mut rx).await;
            // A reload may have brought catalog files in other directories.
            watch_new(&keep, &mut watched, &state);
        }
    });
    Ok(ConfigWatcher { _watcher: watcher })
}

/// Reloads when the files' contents differ from the running config's. A file that
/// cannot be read (mid-replacement, or briefly unreadable) is not a change: it is tried
/// again later, and a reload is only attempted on what could be read.
async fn settle(state: &AppState, rx: &mut tokio::sync::mpsc::UnboundedReceiver<()>) {
    let mut logged = false;
    loop {
        let current = state.runtime.load().checked.hash.clone();
        match files_hash(state) {
            Ok(hash) if hash != current => {
                let _ = reload(state);
                return;
            }
            Ok(_) => return,
            Err(e) => {
                if !logged {
                    tracing::warn!(error = %e, "config watcher: a config file cannot be read; unchanged, trying again");
                    logged = true;
                }
                tokio::time::sleep(RETRY).await;
                while rx.try_recv().is_ok() {}
            }
        }
    }
}

fn files_hash(state: &AppState) -> Result<String, Unreadable> {
    let rt = state.runtime.load();
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    for f in std::iter::once(&rt.checked.path).chain(&rt.checked.files) {
        let bytes = std::fs::read(f).map_err(|source| Unreadable {
            path: f.clone(),
            source,
        })?;
        sha2::Digest::update(&mut h, &bytes);
    }
    Ok(hex::encode(sha2::Digest::finalize(h)))
}

/// The directory a file's events are reported under (`.` for a bare file name).
fn dir_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Directories are watched by their real path, so events arrive under it whatever
/// path the config was named by.
fn real(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Where each file the config uses shows up, as (real directory, file name): where it
/// is named (the config file first) and where its symlinks lead, so a write through a
/// symlink (an editor on a ConfigMap mount) is seen too.
fn used_files(state: &AppState) -> Vec<(PathBuf, OsString)> {
    let rt = state.runtime.load();
    let mut out = Vec::new();
    for f in std::iter::once(&rt.checked.path).chain(&rt.checked.files) {
        for p in [f.clone(), real(f)] {
            if let Some(name) = p.file_name() {
                out.push((real(&dir_of(&p)), name.to_owned()));
            }
        }
    }
    out
}

/// A file the config uses, or a ConfigMap's `..data` (and its timestamped directories)
/// next to the config file.
fn concerns_config(state: &AppState, event: &Path) -> bool {
    let Some(name) = event.file_name() else {
        return false;
    };
    let dir = dir_of(event);
    let files = used_files(state);
    if files
        .first()
        .is_some_and(|(config_dir, _)| *config_dir == dir)
        && name.to_string_lossy().starts_with("..")
    {
        return true;
    }
    files.iter().any(|(d, n)| *d == dir && n == name)
}

fn watch_new(
    watcher: &Mutex<notify::RecommendedWatcher>,
    watched: &mut BTreeSet<PathBuf>,
    state: &AppState,
) {
    if let Err(e) = add_watches(watcher, watched, state) {
        tracing::warn!(error = %e, "config watcher: cannot watch a config file's directory");
    }
}

fn add_watches(
    watcher: &Mutex<notify::RecommendedWatcher>,
    watched: &mut BTreeSet<PathBuf>,
    state: &AppState,
) -> Result<(), WatchError> {
    let mut w = watcher.lock().map_err(|_| WatchError::Poisoned)?;
    let mut failed = Ok(());
    for (dir, _) in used_files(state) {
        if watched.contains(&dir) {
            continue;
        }
        match w.watch(&dir, notify::RecursiveMode::NonRecursive) {
            Ok(()) => {
                watched.insert(dir);
            }
            Err(source) => failed = Err(WatchError::Directory { dir, source }),
        }
    }
    failed
}
