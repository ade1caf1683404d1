#!/usr/bin/env bash
# Start a real Neo4j Community server for the live tests and print the lines to export:
#   set -a; eval "$(bash tests/neo4j/server/run.sh)"; set +a
# exports NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD (and NEO4J_HOME, NEO4J_PID of the server).
# The first run resolves Neo4j from Maven Central with Maven (needs Java 17 and Maven; the
# Maven repository is cached in tests/neo4j/server/.m2, so later runs download nothing).
# The server runs on 127.0.0.1 with a throwaway home (printed as NEO4J_HOME) until
#   bash tests/neo4j/server/run.sh stop "$NEO4J_HOME"
# Options after 'start' (the default): --home DIR, --heap 512m, --pagecache 256m.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="$(command -v python3 || command -v python)"
cmd="${1:-start}"
case "$cmd" in
    start) shift || true; exec "$py" "$here/harness.py" start "$@" ;;
    stop)  exec "$py" "$here/harness.py" stop --home "${2:?usage: run.sh stop NEO4J_HOME}" ;;
    build) exec "$py" "$here/harness.py" build ;;
    *)     echo "usage: run.sh [start [--home DIR] [--heap SIZE] [--pagecache SIZE]] | stop HOME | build" >&2
           exit 2 ;;
esac
