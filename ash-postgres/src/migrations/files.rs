//! The files in the user's repository: `DIR/snapshots/*.json` and
//! `DIR/migrations/NNNN_name.{up,down}.sql`.

use super::model::Table;
use super::MigrationError;
use std::fs;
use std::path::{Path, PathBuf};

/// One migration on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFile {
    /// Its number, `1` for `0001_create_address`.
    pub version: i64,
    /// Its name, `create_address`.
    pub name: String,
    /// The `.up.sql` file.
    pub up: PathBuf,
    /// The `.down.sql` file.
    pub down: PathBuf,
}

impl MigrationFile {
    /// `0001_create_address`.
    pub fn id(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

pub(crate) fn io(path: &Path, error: std::io::Error) -> MigrationError {
    MigrationError::Io {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

pub(crate) fn snapshots_dir(dir: &Path) -> PathBuf {
    dir.join("snapshots")
}

pub(crate) fn migrations_dir(dir: &Path) -> PathBuf {
    dir.join("migrations")
}

/// The snapshot file of `table`: `<table>.json`, or `<schema>.<table>.json`.
pub(crate) fn snapshot_path(dir: &Path, table: &Table) -> PathBuf {
    snapshots_dir(dir).join(format!("{}.json", table.display_name()))
}

/// Every snapshot under `DIR/snapshots`, by file name; none when the directory does not
/// exist yet.
pub fn read_snapshots(dir: &Path) -> Result<Vec<Table>, MigrationError> {
    let snapshots = snapshots_dir(dir);
    let entries = match fs::read_dir(&snapshots) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&snapshots, e)),
    };
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io(&snapshots, e))?.path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut tables = Vec::with_capacity(paths.len());
    for path in paths {
        let text = fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let table: Table = serde_json::from_str(&text).map_err(|e| MigrationError::Snapshot {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if snapshot_path(dir, &table) != path {
            return Err(MigrationError::Snapshot {
                path: path.display().to_string(),
                message: format!(
                    "it describes table `{}`, whose snapshot is `{}.json`",
                    table.display_name(),
                    table.display_name()
                ),
            });
        }
        tables.push(table);
    }
    Ok(tables)
}

/// The JSON of one snapshot: pretty, fields in a fixed order, a final newline.
pub fn snapshot_json(table: &Table) -> String {
    // Serializing plain data with string keys cannot fail.
    let mut json = serde_json::to_string_pretty(table).unwrap_or_default();
    json.push('\n');
    json
}

/// Makes `DIR/snapshots` hold exactly `tables`: writes the changed ones, removes the
/// others.
pub(crate) fn write_snapshots(dir: &Path, tables: &[Table]) -> Result<(), MigrationError> {
    let snapshots = snapshots_dir(dir);
    fs::create_dir_all(&snapshots).map_err(|e| io(&snapshots, e))?;
    let keep: Vec<PathBuf> = tables.iter().map(|t| snapshot_path(dir, t)).collect();
    for (table, path) in tables.iter().zip(&keep) {
        let json = snapshot_json(table);
        if fs::read_to_string(path).ok().as_deref() != Some(json.as_str()) {
            write(path, &json)?;
        }
    }
    for entry in fs::read_dir(&snapshots).map_err(|e| io(&snapshots, e))? {
        let path = entry.map_err(|e| io(&snapshots, e))?.path();
        if path.extension().is_some_and(|e| e == "json") && !keep.contains(&path) {
            fs::remove_file(&path).map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file, so a crash leaves the old file or the new one.
pub(crate) fn write(path: &Path, contents: &str) -> Result<(), MigrationError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, contents).map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// The migrations under `DIR/migrations`, by number. Every `.up.sql` needs its
/// `.down.sql`, and numbers are unique.
pub fn read_migrations(dir: &Path) -> Result<Vec<MigrationFile>, MigrationError> {
    let migrations = migrations_dir(dir);
    let entries = match fs::read_dir(&migrations) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&migrations, e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io(&migrations, e))?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".up.sql") else {
            continue;
        };
        let bad = |message: String| MigrationError::MigrationFiles {
            path: path.display().to_string(),
            message,
        };
        let (number, name) = stem
            .split_once('_')
            .ok_or_else(|| bad("expected `NNNN_name.up.sql`".into()))?;
        let version: i64 = number
            .parse()
            .map_err(|_| bad(format!("`{number}` is not a migration number")))?;
        let down = migrations.join(format!("{stem}.down.sql"));
        if !down.is_file() {
            return Err(bad(format!(
                "its down migration `{}` is missing",
                down.display()
            )));
        }
        found.push(MigrationFile {
            version,
            name: name.to_owned(),
            up: path.clone(),
            down,
        });
    }
    found.sort_by_key(|m| m.version);
    for pair in found.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(MigrationError::MigrationFiles {
                path: pair[1].up.display().to_string(),
                message: format!(
                    "number {} is also `{}`",
                    pair[1].version,
                    pair[0].up.display()
                ),
            });
        }
    }
    Ok(found)
}
