//! Helpers shared by the benchmarks: criterion's medians and the Markdown report.

#![allow(dead_code)]

pub mod seed;

use std::path::PathBuf;

/// Where criterion writes its results, found the way criterion finds it.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let output = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).ok()?;
        Some(PathBuf::from(metadata["target_directory"].as_str()?).join("criterion"))
    });
    from_metadata.unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// The median point estimate, in nanoseconds, of one benchmark's latest run.
pub fn median_ns(dir: &std::path::Path, group: &str, function: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// Appends `markdown` to the file named by `ASH_BENCH_REPORT`, if set.
pub fn append_report(markdown: &str) {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("ASH_BENCH_REPORT") else {
        return;
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open ASH_BENCH_REPORT");
    file.write_all(markdown.as_bytes())
        .expect("write ASH_BENCH_REPORT");
}

/// `"met"` or `"missed"`: whether `ratio` is within `limit`.
pub fn verdict(ratio: f64, limit: f64) -> &'static str {
    if ratio <= limit {
        "met"
    } else {
        "missed"
    }
}
