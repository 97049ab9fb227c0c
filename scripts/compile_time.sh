#!/usr/bin/env bash
# Compile time of a crate with 50 resources like the seed's, against the same 50 structs
# with only `#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]`.
#
# Dependencies are built once first; each measurement then rebuilds only the generated
# crate (`cargo clean -p`), three times, and the median is reported.
#
# Usage: scripts/compile_time.sh [N]   (N resources, default 50)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-50}"
work="$root/target/compile-time"
rm -rf "$work"
mkdir -p "$work/ash/src" "$work/plain/src"

cat > "$work/ash/Cargo.toml" <<TOML
[package]
name = "ct-ash"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
ash-rs = { path = "$root", default-features = false }
[workspace]
TOML
cat > "$work/plain/Cargo.toml" <<TOML
[package]
name = "ct-plain"
version = "0.0.0"
edition = "2021"
publish = false
[dependencies]
serde = { version = "1", features = ["derive"] }
uuid = { version = "1", features = ["v4", "serde"] }
[workspace]
TOML

{
  echo "use ash_rs::prelude::*;"
  defines=""
  for i in $(seq 1 "$n"); do
    cat <<RS
#[resource(domain = Domain)]
#[actions(
    defaults(read, create = [state, county]),
    update(update, accept = [state, county], change = optimistic_lock(version)),
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Address$i {
    #[uuid_primary_key]
    pub id: Uuid,
    #[attribute(default = 1)]
    pub version: i64,
    pub state: String,
    pub county: String,
}
RS
    defines="$defines    Address$i(define(get_address$i, action = read, get_by = [id]), define(create_address$i, action = create, args = [state, county]), define(update_address$i, action = update)),
"
  done
  printf '#[domain]\n#[resources(\n%s)]\npub struct Domain;\n' "$defines"
} > "$work/ash/src/lib.rs"

{
  echo "use uuid::Uuid;"
  for i in $(seq 1 "$n"); do
    cat <<RS
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Address$i {
    pub id: Uuid,
    pub version: i64,
    pub state: String,
    pub county: String,
}
RS
  done
} > "$work/plain/src/lib.rs"

measure() {
  local dir="$1" pkg="$2"
  (cd "$dir" && CARGO_TARGET_DIR="$work/target" cargo build -q 2>/dev/null) # dependencies
  local times=()
  for _ in 1 2 3; do
    (cd "$dir" && CARGO_TARGET_DIR="$work/target" cargo clean -q -p "$pkg")
    local start end
    start=$(date +%s.%N)
    (cd "$dir" && CARGO_TARGET_DIR="$work/target" cargo build -q)
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

ash=$(measure "$work/ash" ct-ash)
plain=$(measure "$work/plain" ct-plain)
ratio=$(echo "scale=2; $ash / $plain" | bc)
echo "resources: $n"
echo "ash-rs (#[resource] + #[domain]): median ${ash}s"
echo "derive(Debug, Clone, Serialize, Deserialize): median ${plain}s"
echo "ratio: ${ratio}x"
