//! Outputs written beside their destination and placed together.
//!
//! Every output is written to a file in its destination's directory and renamed over the
//! destination only once it is complete and synced. Where the platform allows it (Linux
//! with `O_TMPFILE` and `/proc`), that file has no name while it is written, so a run
//! killed with SIGKILL or a power cut leaves nothing visible; otherwise it is a
//! `.nordlink-*.partial` file, listed in a process-wide registry so a signal handler can
//! remove it ([`remove_staged_files`]).
//!
//! A run with several outputs (a table, its rejects, a CLK JSON file, a report) first
//! finishes all of them ([`Staged`]), then places them with one call to [`place`]: if
//! one cannot be placed, those already placed by that call are removed again, so a run
//! leaves either all its outputs or none of them.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tempfile::TempPath;

use crate::IoError;

/// Named temporary files that exist now; the lock is also held while outputs are placed,
/// so a signal handler never removes files halfway through a placement.
static REGISTRY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere while holding the lock leaves a usable list.
    REGISTRY.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Removes every temporary output file this process has not yet placed or removed, and
/// returns how many it removed. For signal handlers: call it, then exit. It waits for a
/// placement in progress to end, and outputs placed after it returns are not affected
/// (a handler exits before any can be).
pub fn remove_staged_files() -> usize {
    let mut names = registry();
    let mut removed = 0;
    for path in names.drain(..) {
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Runs `write` while [`remove_staged_files`] waits: for a short write that makes and
/// places its own temporary file (a key file), so a signal arriving meanwhile lets it
/// finish, whole, instead of leaving its temporary file behind. Never nest it, nor call
/// [`place`] inside it: they take the same lock.
pub fn uninterrupted<T>(write: impl FnOnce() -> T) -> T {
    let _held = registry();
    write()
}

/// The directory an output is written in: its parent, or `.` for a bare file name.
fn directory(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A file being written for `dest`; dropping it before [`Pending::finish`] leaves
/// nothing behind.
#[derive(Debug)]
pub(crate) struct Pending {
    dest: PathBuf,
    temp: Temp,
}

#[derive(Debug)]
enum Temp {
    /// An `O_TMPFILE` file, still open (its descriptor is the only way to reach it).
    #[cfg(target_os = "linux")]
    Unnamed(File),
    /// A named file, registered for removal on a signal.
    Named(Registered),
}

/// A registered temporary path: removed from the registry and the disk when dropped.
#[derive(Debug)]
struct Registered(Option<TempPath>);

impl Registered {
    fn new(path: TempPath) -> Self {
        registry().push(path.to_path_buf());
        Self(Some(path))
    }

    /// Takes the path out of the registry (whose lock the caller holds).
    fn take(mut self, names: &mut Vec<PathBuf>) -> Option<TempPath> {
        let path = self.0.take()?;
        names.retain(|p| p.as_path() != &*path);
        Some(path)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            registry().retain(|p| p.as_path() != &*path);
            drop(path);
        }
    }
}

impl Pending {
    /// Creates the file for `dest` (readable by its owner only) and returns it for
    /// writing.
    ///
    /// # Errors
    /// [`IoError::File`] naming `dest` if it is a directory or no file can be created
    /// beside it.
    pub(crate) fn create(dest: &Path) -> Result<(File, Self), IoError> {
        let err = |source| IoError::File { path: dest.to_owned(), source };
        if std::fs::symlink_metadata(dest).is_ok_and(|m| m.is_dir()) {
            return Err(err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory")));
        }
        let dir = directory(dest);
        #[cfg(target_os = "linux")]
        if let Some(file) = unnamed_file(dir) {
            let handle = file.try_clone().map_err(err)?;
            return Ok((file, Self { dest: dest.to_owned(), temp: Temp::Unnamed(handle) }));
        }
        let (file, path) = tempfile::Builder::new()
            .prefix(".nordlink-")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(err)?
            .into_parts();
        Ok((file, Self { dest: dest.to_owned(), temp: Temp::Named(Registered::new(path)) }))
    }

    /// The output is complete and synced: it is ready to be placed.
    pub(crate) fn finish(self) -> Staged {
        Staged { dest: self.dest.clone(), steps: vec![Step::Place(self)] }
    }

    /// Renames the file over its destination (the registry lock is held by the caller).
    fn place(self, names: &mut Vec<PathBuf>) -> io::Result<()> {
        let path = match self.temp {
            #[cfg(target_os = "linux")]
            Temp::Unnamed(file) => link_unnamed(&file, directory(&self.dest))?,
            Temp::Named(registered) => match registered.take(names) {
                Some(path) => path,
                None => return Err(io::Error::other("temporary file already removed")),
            },
        };
        path.persist(&self.dest).map_err(|e| e.error)
    }
}

/// An `O_TMPFILE` file in `dir`, if the platform and file system support it and `/proc`
/// can give it a name later.
#[cfg(target_os = "linux")]
fn unnamed_file(dir: &Path) -> Option<File> {
    use rustix::fs::{Mode, OFlags};
    if !Path::new("/proc/self/fd").is_dir() {
        return None;
    }
    let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::RUSR | Mode::WUSR).ok()?;
    Some(File::from(fd))
}

/// Gives an `O_TMPFILE` file a temporary name in `dir`, to be renamed at once.
#[cfg(target_os = "linux")]
fn link_unnamed(file: &File, dir: &Path) -> io::Result<TempPath> {
    use std::os::fd::AsRawFd;
    let source = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
    let named =
        tempfile::Builder::new().prefix(".nordlink-").suffix(".partial").make_in(dir, |name| {
            rustix::fs::linkat(
                rustix::fs::CWD,
                &source,
                rustix::fs::CWD,
                name,
                rustix::fs::AtFlags::SYMLINK_FOLLOW,
            )
            .map_err(io::Error::from)
        })?;
    Ok(named.into_temp_path())
}

/// One output, complete and synced, not yet at its destination. Dropping it removes it.
#[derive(Debug)]
#[must_use = "a staged output is lost unless it is placed"]
pub struct Staged {
    dest: PathBuf,
    steps: Vec<Step>,
}

#[derive(Debug)]
enum Step {
    Place(Pending),
    /// A stale companion file to remove once the output is placed (a CSV's old
    /// provenance sidecar).
    Remove(PathBuf),
}

impl Staged {
    /// The destination.
    pub fn path(&self) -> &Path {
        &self.dest
    }

    /// Places `companion` before this output (a CSV's provenance sidecar goes before
    /// its data, so new data is never paired with an old record).
    pub(crate) fn after(mut self, companion: Staged) -> Self {
        let mut steps = companion.steps;
        steps.append(&mut self.steps);
        self.steps = steps;
        self
    }

    /// Removes `stale` once this output is placed.
    pub(crate) fn removing(mut self, stale: PathBuf) -> Self {
        self.steps.push(Step::Remove(stale));
        self
    }
}

/// Places outputs, all or none: each is renamed over its destination in order; if one
/// fails, those this call already placed are removed (files that stood at those paths
/// before the run are not restored) and the error names the one that failed.
///
/// # Errors
/// [`IoError::File`] naming the output that could not be placed.
pub fn place(outputs: impl IntoIterator<Item = Staged>) -> Result<(), IoError> {
    let mut queue = outputs.into_iter().flat_map(|out| out.steps);
    let result = {
        let mut names = registry();
        place_locked(&mut queue, &mut names)
    };
    // Whatever was not placed is dropped (and removed) after the lock is released.
    drop(queue);
    result
}

/// Runs the steps in order; on a failure, removes what this call placed and names the
/// file that failed (a CSV's sidecar, say, rather than its data file).
fn place_locked(
    queue: &mut impl Iterator<Item = Step>,
    names: &mut Vec<PathBuf>,
) -> Result<(), IoError> {
    let mut placed: Vec<PathBuf> = Vec::new();
    for step in queue.by_ref() {
        let (path, outcome) = match step {
            Step::Place(pending) => {
                let target = pending.dest.clone();
                let outcome = pending.place(names);
                if outcome.is_ok() {
                    placed.push(target.clone());
                }
                (target, outcome)
            }
            Step::Remove(stale) => {
                let outcome = match std::fs::remove_file(&stale) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                };
                (stale, outcome)
            }
        };
        if let Err(source) = outcome {
            for placed in placed {
                let _ = std::fs::remove_file(placed);
            }
            return Err(IoError::File { path, source });
        }
    }
    Ok(())
}

/// Stages a small file whole (`bytes`), readable by its owner only.
///
/// # Errors
/// [`IoError::File`] naming `path`.
pub fn stage_bytes(path: &Path, bytes: &[u8]) -> Result<Staged, IoError> {
    use std::io::Write;
    let err = |source| IoError::File { path: path.to_owned(), source };
    let (mut file, pending) = Pending::create(path)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    Ok(pending.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_is_visible_until_placed_and_dropping_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.txt");
        let staged = stage_bytes(&a, b"one").unwrap();
        // Either unnamed (nothing at all) or one registered `.partial` file.
        let before = names_in(dir.path());
        assert!(before.iter().all(|n| n.ends_with(".partial")), "{before:?}");
        drop(staged);
        assert!(names_in(dir.path()).is_empty());
        place([stage_bytes(&a, b"two").unwrap()]).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"two");
        assert_eq!(names_in(dir.path()), ["a.txt"]);
    }

    #[test]
    fn a_failed_placement_removes_the_outputs_placed_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.txt");
        let second = dir.path().join("second.txt");
        let staged = [stage_bytes(&first, b"1").unwrap(), stage_bytes(&second, b"2").unwrap()];
        // A directory appears where the second output goes, after it was staged.
        std::fs::create_dir(&second).unwrap();
        std::fs::write(second.join("keep"), b"k").unwrap();
        let e = place(staged).unwrap_err();
        assert!(e.to_string().contains("second.txt"), "{e}");
        assert!(!first.exists());
        assert_eq!(names_in(dir.path()), ["second.txt"]);
    }

    #[test]
    fn a_directory_destination_is_refused_up_front() {
        let dir = tempfile::tempdir().unwrap();
        let e = stage_bytes(dir.path(), b"x").unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }

    #[test]
    fn removal_waits_for_an_uninterrupted_write() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        let (started, wait) = std::sync::mpsc::channel();
        let writer = std::thread::spawn({
            let file = file.clone();
            move || {
                uninterrupted(|| {
                    started.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    std::fs::write(&file, b"whole").unwrap();
                });
            }
        });
        wait.recv().unwrap();
        // The lock `remove_staged_files` starts with (not the call itself, which would
        // race with the other tests' registered files).
        drop(registry());
        assert_eq!(std::fs::read(&file).unwrap(), b"whole");
        writer.join().unwrap();
    }

    #[test]
    fn registered_files_are_removed_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = tempfile::Builder::new()
            .prefix(".nordlink-")
            .suffix(".partial")
            .tempfile_in(dir.path())
            .unwrap()
            .into_temp_path();
        let kept = Registered::new(path);
        assert!(remove_staged_files() >= 1);
        assert!(names_in(dir.path()).is_empty());
        drop(kept);
    }
}
