# Sourced by the bench scripts (not run): building and finding the binary,
# a free loopback port, the time in milliseconds. Builds go to
# $CARGO_TARGET_DIR when set, else to the repository's target/.

target_dir="${CARGO_TARGET_DIR:-$(pwd)/target}"

now_ms() { date +%s%3N; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# build_wirewatch PROFILE [CARGO ARGS...]: builds the binary (and whatever
# else the arguments name, such as --example reconcile) in PROFILE (release
# or debug) and sets bin to it.
build_wirewatch() {
  local profile="$1"
  shift
  if [ "$profile" = release ]; then
    cargo build --quiet --release --bin wirewatch "$@"
  else
    cargo build --quiet --bin wirewatch "$@"
  fi
  bin="$target_dir/$profile/wirewatch"
}
