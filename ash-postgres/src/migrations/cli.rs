//! The command line: `generate`, `check`, `migrate`, `rollback`.

use super::{collect, generate, Options, Target};
use super::{DomainTables, MigrationError};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: <command> [options]

commands:
  generate --dir DIR [--name NAME] [--rename-table OLD=NEW]... [--rename-column TABLE.OLD=NEW]...
           [--fill TABLE.COLUMN=SQL]... [--allow-drop]
      compare the resources with DIR/snapshots; when they differ, write the next
      DIR/migrations/NNNN_NAME.up.sql and .down.sql and update the snapshots
  check --dir DIR
      exit with status 1 when the resources differ from DIR/snapshots
  migrate --dir DIR [--schema SCHEMA]
      apply the pending migrations to the database at DATABASE_URL
  rollback --dir DIR [--schema SCHEMA]
      undo the last applied migration

DIR defaults to `priv`.";

/// What a command found, for its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (or nothing to do).
    Done,
    /// `check`: the resources differ from the snapshots.
    Differs,
}

/// The migration command: reads the arguments after the program name and
/// `DATABASE_URL`, runs the subcommand on `domains`' resources, prints what it did, and
/// returns the exit status (0 done, 1 `check` found differences or a command failed, 2
/// a wrong command line). Call it from your binary's `main` inside a tokio runtime; see
/// the [module docs](super).
pub async fn cli(domains: &[DomainTables]) -> ExitCode {
    let args = std::env::args().skip(1);
    let url = std::env::var("DATABASE_URL").ok();
    let mut stdout = std::io::stdout();
    match run(args, domains, url.as_deref(), &mut stdout).await {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Differs) => ExitCode::from(1),
        Err(MigrationError::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage(message: impl Into<String>) -> MigrationError {
    MigrationError::Usage(message.into())
}

fn pair<'a>(flag: &str, value: &'a str) -> Result<(&'a str, &'a str), MigrationError> {
    value
        .split_once('=')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| usage(format!("{flag} expects A=B, got `{value}`")))
}

/// `table.column` (the last dot separates, so `schema.table.column` works).
fn column<'a>(flag: &str, value: &'a str) -> Result<(&'a str, &'a str), MigrationError> {
    value
        .rsplit_once('.')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| usage(format!("{flag} expects TABLE.COLUMN, got `{value}`")))
}

/// [`cli`] with its inputs given: the arguments (without the program name), the database
/// URL and where to print. `Err(MigrationError::Usage)` for a wrong command line.
pub async fn run(
    args: impl IntoIterator<Item = String>,
    domains: &[DomainTables],
    database_url: Option<&str>,
    out: &mut dyn Write,
) -> Result<Outcome, MigrationError> {
    let mut args = args.into_iter();
    let command = args.next().ok_or_else(|| usage("no command given"))?;
    if matches!(command.as_str(), "help" | "--help" | "-h") {
        let _ = writeln!(out, "{USAGE}");
        return Ok(Outcome::Done);
    }
    let mut dir = PathBuf::from("priv");
    let mut name = None;
    let mut schema = None;
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let generate_only = matches!(
            flag.as_str(),
            "--name" | "--rename-table" | "--rename-column" | "--fill" | "--allow-drop"
        );
        if generate_only && command != "generate" {
            return Err(usage(format!("{flag} is an option of `generate`")));
        }
        if flag == "--schema" && !matches!(command.as_str(), "migrate" | "rollback") {
            return Err(usage("--schema is an option of `migrate` and `rollback`"));
        }
        if flag == "--allow-drop" {
            options.allow_drop = true;
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| usage(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--dir" => dir = PathBuf::from(value()?),
            "--name" => name = Some(value()?),
            "--schema" => schema = Some(value()?),
            "--rename-table" => {
                let v = value()?;
                let (from, to) = pair(&flag, &v)?;
                options = options.rename_table(from, to);
            }
            "--rename-column" => {
                let v = value()?;
                let (from, to) = pair(&flag, &v)?;
                let (table, from) = column(&flag, from)?;
                options = options.rename_column(table, from, to);
            }
            "--fill" => {
                let v = value()?;
                let (target, sql) = pair(&flag, &v)?;
                let (table, col) = column(&flag, target)?;
                options = options.fill(table, col, sql);
            }
            other => return Err(usage(format!("unknown option `{other}`"))),
        }
    }
    let print = |out: &mut dyn Write, line: String| {
        let _ = writeln!(out, "{line}");
    };
    match command.as_str() {
        "generate" => {
            let tables = collect(domains)?;
            match generate(&dir, &tables, &options, name.as_deref())? {
                None => print(out, "No changes detected: nothing written.".into()),
                Some(generated) => {
                    print(
                        out,
                        format!(
                            "Wrote {} and {}, and updated {}:",
                            generated.migration.up.display(),
                            generated.migration.down.display(),
                            dir.join("snapshots").display()
                        ),
                    );
                    for change in &generated.changes {
                        print(out, format!("  * {change}"));
                    }
                }
            }
            Ok(Outcome::Done)
        }
        "check" => {
            let tables = collect(domains)?;
            let changes = super::check(&dir, &tables)?;
            if changes.is_empty() {
                print(
                    out,
                    format!("The resources match {}.", dir.join("snapshots").display()),
                );
                return Ok(Outcome::Done);
            }
            print(
                out,
                format!(
                    "The resources differ from {}; run `generate --dir {}`:",
                    dir.join("snapshots").display(),
                    dir.display()
                ),
            );
            for change in &changes {
                print(out, format!("  * {change}"));
            }
            Ok(Outcome::Differs)
        }
        "migrate" | "rollback" => {
            let url = database_url.ok_or(MigrationError::MissingDatabaseUrl)?;
            let target = Target::new(url).schema(schema);
            if command == "migrate" {
                let ran = target.migrate(&dir).await?;
                if ran.is_empty() {
                    print(
                        out,
                        "Nothing to migrate: every migration is applied.".into(),
                    );
                }
                for file in ran {
                    print(out, format!("Applied {}", file.id()));
                }
            } else {
                match target.rollback(&dir).await? {
                    Some(file) => print(out, format!("Rolled back {}", file.id())),
                    None => print(out, "Nothing to roll back: no migration is applied.".into()),
                }
            }
            Ok(Outcome::Done)
        }
        other => Err(usage(format!(
            "unknown command `{other}`; commands: generate, check, migrate, rollback"
        ))),
    }
}
