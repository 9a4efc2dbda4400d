#!/usr/bin/env bash
# A real Apache Flink 2.3 standalone session cluster from the jars scripts/setup-flink.sh
# installs: one JobManager and N TaskManagers, each its own JVM, for
# `weir run|compare --engine flink --flink-cluster HOST:PORT` (docs/SCALING.md).
#
#   scripts/flink-cluster.sh start  [options]   start it; prints the REST address (HOST:PORT) on stdout
#   scripts/flink-cluster.sh stop   [--dir DIR] stop every JVM of it and check that none is left
#   scripts/flink-cluster.sh status [--dir DIR] which JVMs run, and what the REST API says
#
# Options of start (defaults in brackets):
#   --taskmanagers N    TaskManagers on this machine [2]; ignored with --workers-file
#   --slots S           task slots per TaskManager [1]
#   --host HOST         address of the JobManager (RPC and REST), as the TaskManagers and weir
#                       reach it [localhost; the machine's host name with --workers-file]
#   --rest-port P       REST API and web UI [8081]     --rpc-port P   JobManager RPC [6123]
#   --blob-port P       blob server [any free port; fix it when a firewall sits in between]
#   --jm-memory SIZE    JobManager process memory [1024m]
#   --tm-memory SIZE    TaskManager process memory [1536m]
#   --workers-file F    one TaskManager host per line (Flink's conf/workers format, # comments);
#                       localhost and 127.x.x.x start here, bound to that address; any other host
#                       is started over ssh ($WEIR_FLINK_SSH, default `ssh -o BatchMode=yes`) and
#                       must have this repository, set up, at the same path
#   --timeout S         how long start waits for every TaskManager to register [180]
#   --dir DIR           run directory: generated config, logs, pid files [.flink/cluster]
#
# The wheel ships no start scripts, so this one does what Flink's jobmanager.sh and
# taskmanager.sh do: it asks flink-dist's BashJavaUtils for each process's JVM memory flags and
# launches StandaloneSessionClusterEntrypoint and TaskManagerRunner itself. Every JVM is the
# leader of its own process group (setsid), has its pid in DIR/pids/ and carries the marker
# -Dweir.flink.cluster=DIR on its command line, so stop can end it even when a pid file is lost
# (after a crash of this script or of the machine's session): stop signals each whole group,
# waits, kills what is left and fails unless no JVM with the marker remains.
set -euo pipefail
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)
FLINK_VERSION=2.3.0
SITE="$ROOT/.flink/site/pyflink"
LIB="$SITE/lib"

say() { printf 'flink-cluster: %s\n' "$*" >&2; }
die() { printf 'flink-cluster: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

CMD=${1:-}
case "$CMD" in ''|-h|--help|help) usage ;; esac
shift
TASKMANAGERS=2 SLOTS=1 HOST="" REST_PORT=8081 RPC_PORT=6123 BLOB_PORT="" JM_MEM=1024m TM_MEM=1536m
WORKERS_FILE="" TIMEOUT=180 DIR="$ROOT/.flink/cluster" INDEX="" TM_HOST=""
while [ $# -gt 0 ]; do
    case "$1" in
        --taskmanagers) TASKMANAGERS=${2:?--taskmanagers needs a number}; shift 2 ;;
        --slots) SLOTS=${2:?--slots needs a number}; shift 2 ;;
        --host) HOST=${2:?--host needs an address}; shift 2 ;;
        --rest-port) REST_PORT=${2:?--rest-port needs a port}; shift 2 ;;
        --rpc-port) RPC_PORT=${2:?--rpc-port needs a port}; shift 2 ;;
        --blob-port) BLOB_PORT=${2:?--blob-port needs a port}; shift 2 ;;
        --jm-memory) JM_MEM=${2:?--jm-memory needs a size}; shift 2 ;;
        --tm-memory) TM_MEM=${2:?--tm-memory needs a size}; shift 2 ;;
        --workers-file) WORKERS_FILE=${2:?--workers-file needs a file}; shift 2 ;;
        --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
        --dir) DIR=${2:?--dir needs a directory}; shift 2 ;;
        --index) INDEX=${2:?}; shift 2 ;;
        --tm-host) TM_HOST=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) die "unknown option '$1' (scripts/flink-cluster.sh --help lists them)" ;;
    esac
done
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
CONF="$DIR/conf" LOGS="$DIR/log" PIDS="$DIR/pids" STATE="$DIR/cluster.state"
MARKER="-Dweir.flink.cluster=$DIR"

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_port() { is_uint "$1" && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
is_local_host() { [[ "$1" == localhost || "$1" =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ || "$1" == ::1 ]]; }

# Pids of the live processes that have this cluster's marker as one of their arguments (the
# marker reaches grep through a file, so grep does not find itself).
marked_pids() {
    grep -lzxF -f <(printf '%s\n' "$MARKER") /proc/[0-9]*/cmdline 2>/dev/null \
        | sed -n 's|^/proc/\([0-9]*\)/cmdline$|\1|p' || true
}

# Whether pid is alive and one of this cluster's JVMs (a recycled pid is not).
ours() { [ -n "$1" ] && grep -qzxF -f <(printf '%s\n' "$MARKER") "/proc/$1/cmdline" 2>/dev/null; }

listening() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# GET http://HOST:PORT/path, body on stdout; fails unless HTTP 200 (python3: setup-flink needs it).
rest_get() {
    python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "http://$1$2" 2>/dev/null
}

json_int() { sed -n "s/.*\"$1\":\([0-9-]*\).*/\1/p" <<<"$2"; }

write_conf() {
    mkdir -p "$CONF" "$LOGS" "$PIDS" "$DIR/tmp"
    local bind=$HOST
    [ -z "$WORKERS_FILE" ] || bind=0.0.0.0
    {
        echo "# Generated by scripts/flink-cluster.sh; rewritten on every start."
        echo "jobmanager.rpc.address: $HOST"
        echo "jobmanager.rpc.port: $RPC_PORT"
        echo "jobmanager.bind-host: $bind"
        echo "jobmanager.memory.process.size: $JM_MEM"
        echo "rest.address: $HOST"
        echo "rest.port: $REST_PORT"
        echo "rest.bind-address: $bind"
        [ -z "$BLOB_PORT" ] || echo "blob.server.port: $BLOB_PORT"
        echo "taskmanager.numberOfTaskSlots: $SLOTS"
        echo "taskmanager.memory.process.size: $TM_MEM"
        echo "# Keyed state lives on the heap (HashMapStateBackend): managed memory is RocksDB's and"
        echo "# batch's, so it gets what a local MiniCluster gives it and the rest is task heap."
        echo "taskmanager.memory.managed.size: 128m"
        echo "# Fresher per-subtask busy/idle/back-pressured times for weir's workers panel."
        echo "metrics.fetcher.update-interval: 1000"
        echo "restart-strategy.type: disable"
        echo "io.tmp.dirs: $DIR/tmp"
    } > "$CONF/config.yaml"
    cat > "$CONF/log4j.properties" <<'LOG4J'
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
appender.main.name = MainAppender
appender.main.type = File
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
LOG4J
}

# The JVM flags Flink's own scripts pass on Java 17 (env.java.default-opts.all).
JAVA_OPENS=(--add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
    --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED)

# Sets JVM_PARAMS and DYNAMIC from BashJavaUtils (GET_JM_RESOURCE_PARAMS / GET_TM_RESOURCE_PARAMS).
resource_params() {
    local out results
    out=$(java -cp "$SITE/bin/bash-java-utils.jar:$LIB/flink-dist-$FLINK_VERSION.jar" \
        org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$CONF" 2>&1) \
        || die "Flink rejected the memory settings (--jm-memory $JM_MEM, --tm-memory $TM_MEM):"$'\n'"$(grep -v -e '^INFO' -e $'^\tat ' -e '^\s*\.\.\. [0-9]* more' <<<"$out" | tail -n 10)"
    results=$(sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p' <<<"$out")
    [ "$(wc -l <<<"$results")" -eq 2 ] || die "unexpected output from Flink's BashJavaUtils $1:"$'\n'"$out"
    JVM_PARAMS=$(head -n1 <<<"$results")
    DYNAMIC=$(tail -n1 <<<"$results")
}

# launch NAME CLASS ARGS...: one JVM, leader of its own process group, pid in $PIDS/NAME.pid.
launch() {
    local name=$1 class=$2
    shift 2
    rm -f "$PIDS/$name.pid"
    # Appending (a logger context opened late, e.g. at shutdown, must not truncate the log), so
    # each start empties the log itself.
    : > "$LOGS/$name.log"
    # shellcheck disable=SC2086 # JVM_PARAMS is a list of flags
    FLINK_PLUGINS_DIR="$SITE/plugins" setsid bash -c 'echo $$ > "$0"; exec "$@"' "$PIDS/$name.pid" \
        java $JVM_PARAMS -XX:+UseG1GC "${JAVA_OPENS[@]}" "$MARKER" \
        -Dlog.file="$LOGS/$name.log" -Dlog4j.configurationFile="file:$CONF/log4j.properties" \
        -cp "$LIB/*" "$class" --configDir "$CONF" "$@" > "$LOGS/$name.out" 2>&1 < /dev/null &
    local i
    for i in $(seq 50); do
        [ -s "$PIDS/$name.pid" ] && return 0
        sleep 0.1
    done
    die "$name did not start (no pid file after 5 s)"
}

start_taskmanager() { # index host (TM_JVM_PARAMS and TM_DYNAMIC set by tm_params)
    JVM_PARAMS=$TM_JVM_PARAMS
    # shellcheck disable=SC2086 # TM_DYNAMIC is a list of -D key=value pairs
    launch "taskmanager-$1" org.apache.flink.runtime.taskexecutor.TaskManagerRunner $TM_DYNAMIC \
        -D "taskmanager.host=$2" -D "taskmanager.bind-host=$2"
}

tm_params() {
    resource_params GET_TM_RESOURCE_PARAMS
    TM_JVM_PARAMS=$JVM_PARAMS TM_DYNAMIC=$DYNAMIC
}

remote() { # host command...: runs this script on host, in this repository's path there
    local host=$1
    shift
    local args=""
    local a
    for a in "$@"; do args+=" $(printf '%q' "$a")"; done
    # shellcheck disable=SC2086 # WEIR_FLINK_SSH is a command with its flags
    ${WEIR_FLINK_SSH:-ssh -o BatchMode=yes} "$host" "cd $(printf '%q' "$ROOT") && scripts/flink-cluster.sh$args"
}

conf_args() {
    local a=(--dir "$DIR" --host "$HOST" --rest-port "$REST_PORT" --rpc-port "$RPC_PORT" --slots "$SLOTS"
        --jm-memory "$JM_MEM" --tm-memory "$TM_MEM")
    [ -z "$BLOB_PORT" ] || a+=(--blob-port "$BLOB_PORT")
    printf '%s\n' "${a[@]}"
}

log_tail() { # name
    printf '\n--- %s (last lines of %s) ---\n' "$1" "$LOGS/$1.log" >&2
    tail -n 15 "$LOGS/$1.log" 2>/dev/null | cut -c1-300 >&2 || true
    tail -n 5 "$LOGS/$1.out" 2>/dev/null >&2 || true
}

stop_local() { # ends every JVM of this cluster on this machine; fails if one survives
    local pids pid f
    pids=$( { for f in "$PIDS"/*.pid; do [ -f "$f" ] && cat "$f"; done; marked_pids; } 2>/dev/null | sort -un)
    for pid in $pids; do
        ours "$pid" || continue
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    local waited=0
    while [ -n "$(marked_pids)" ] && [ $waited -lt 150 ]; do
        sleep 0.2
        waited=$((waited + 1))
    done
    for pid in $(marked_pids); do
        say "pid $pid did not end within 30 s of SIGTERM; killing its process group"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    done
    waited=0
    while [ -n "$(marked_pids)" ] && [ $waited -lt 50 ]; do
        sleep 0.2
        waited=$((waited + 1))
    done
    local left
    left=$(marked_pids)
    [ -z "$left" ] || die "JVMs of $DIR are still running after SIGKILL: pids $(echo $left)"
    rm -f "$PIDS"/*.pid
    rm -rf "$DIR/tmp"
}

status_local() { # prints one line per JVM; returns 0 all running, 3 none, 1 some
    local f name pid running=0 total=0
    for f in "$PIDS"/*.pid; do
        [ -f "$f" ] || continue
        name=$(basename "$f" .pid)
        pid=$(cat "$f")
        total=$((total + 1))
        if ours "$pid"; then
            running=$((running + 1))
            echo "$name: running (pid $pid, $(hostname))"
        else
            echo "$name: NOT running (pid file says $pid; log $LOGS/$name.log)"
        fi
    done
    local known stray=""
    known=$(cat "$PIDS"/*.pid 2>/dev/null || true)
    for pid in $(marked_pids); do
        grep -qx "$pid" <<<"$known" || stray+=" $pid"
    done
    [ -z "$stray" ] || echo "stray JVMs of this cluster without a pid file:$stray (stop ends them)"
    if [ $total -eq 0 ] && [ -z "$stray" ]; then return 3; fi
    if [ $running -eq $total ] && [ -z "$stray" ]; then return 0; fi
    return 1
}

cmd_start() {
    command -v java >/dev/null 2>&1 || die "java not found on PATH; install a Java 17 runtime"
    command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH (start polls the REST API with it)"
    [ -f "$LIB/flink-dist-$FLINK_VERSION.jar" ] || die "Flink is not set up: run scripts/setup-flink.sh"
    is_uint "$SLOTS" && [ "$SLOTS" -ge 1 ] || die "--slots must be a number >= 1, got '$SLOTS'"
    is_uint "$TIMEOUT" && [ "$TIMEOUT" -ge 1 ] || die "--timeout must be a number of seconds, got '$TIMEOUT'"
    local p
    for p in "$REST_PORT" "$RPC_PORT" ${BLOB_PORT:+"$BLOB_PORT"}; do
        is_port "$p" || die "ports must be numbers from 1 to 65535, got '$p'"
    done
    [ "$REST_PORT" != "$RPC_PORT" ] || die "--rest-port and --rpc-port must differ"
    local -a hosts=()
    if [ -n "$WORKERS_FILE" ]; then
        [ -f "$WORKERS_FILE" ] || die "--workers-file $WORKERS_FILE: no such file"
        mapfile -t hosts < <(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' "$WORKERS_FILE" | grep -v '^$' || true)
        [ ${#hosts[@]} -gt 0 ] || die "--workers-file $WORKERS_FILE lists no host"
        [ -n "$HOST" ] || HOST=$(hostname -f 2>/dev/null || hostname)
    else
        is_uint "$TASKMANAGERS" && [ "$TASKMANAGERS" -ge 1 ] \
            || die "--taskmanagers must be a number >= 1, got '$TASKMANAGERS'"
        [ -n "$HOST" ] || HOST=localhost
        local i
        for i in $(seq "$TASKMANAGERS"); do hosts+=("$HOST"); done
    fi
    if [ -n "$(marked_pids)" ]; then
        status_local >&2 || true
        die "a cluster of $DIR is already (partly) running; run scripts/flink-cluster.sh stop --dir $DIR first"
    fi
    rm -f "$PIDS"/*.pid
    for p in "$REST_PORT" "$RPC_PORT" ${BLOB_PORT:+"$BLOB_PORT"}; do
        if listening "$HOST" "$p"; then
            die "port $p on $HOST is already in use; choose others with --rest-port/--rpc-port/--blob-port"
        fi
    done
    write_conf
    local -a remote_hosts=()
    {
        echo "rest=$HOST:$REST_PORT"
        echo "taskmanagers=${#hosts[@]}"
        echo "slots=$SLOTS"
    } > "$STATE"
    # Both memory settings are checked before any JVM starts.
    tm_params
    resource_params GET_JM_RESOURCE_PARAMS
    trap 'say "start failed; stopping what was started"; cmd_stop >/dev/null 2>&1 || true' EXIT
    say "starting the JobManager on $HOST (REST $REST_PORT, RPC $RPC_PORT, $JM_MEM)"
    # shellcheck disable=SC2086 # DYNAMIC is a list of -D key=value pairs
    launch jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint $DYNAMIC
    local n=0 h
    for h in "${hosts[@]}"; do
        n=$((n + 1))
        if is_local_host "$h"; then
            say "starting TaskManager $n on $h (slots: $SLOTS, memory: $TM_MEM)"
            start_taskmanager "$n" "$h"
        else
            say "starting TaskManager $n on $h over ssh (slots: $SLOTS, memory: $TM_MEM)"
            mapfile -t args < <(conf_args)
            remote "$h" _taskmanager "${args[@]}" --index "$n" --tm-host "$h" \
                || die "could not start TaskManager $n on $h over ssh"
            remote_hosts+=("$h")
        fi
    done
    echo "remote=${remote_hosts[*]}" >> "$STATE"
    local want_slots=$((${#hosts[@]} * SLOTS)) deadline=$((SECONDS + TIMEOUT)) overview="" f
    while :; do
        for f in "$PIDS"/*.pid; do
            if ! ours "$(cat "$f")"; then
                log_tail "$(basename "$f" .pid)"
                die "$(basename "$f" .pid) exited during start-up (see its log above)"
            fi
        done
        overview=$(rest_get "$HOST:$REST_PORT" /overview || true)
        if [ "$(json_int taskmanagers "$overview")" = "${#hosts[@]}" ] \
            && [ "$(json_int slots-total "$overview")" = "$want_slots" ]; then
            break
        fi
        if [ $SECONDS -ge $deadline ]; then
            log_tail jobmanager
            die "the cluster did not have ${#hosts[@]} TaskManagers with $want_slots slots within $TIMEOUT s (REST said: ${overview:-nothing})"
        fi
        sleep 0.5
    done
    trap - EXIT
    say "up: 1 JobManager and ${#hosts[@]} TaskManager(s) with $SLOTS slot(s) each; REST API and web UI at http://$HOST:$REST_PORT"
    say "run: weir run --engine flink --flink-cluster $HOST:$REST_PORT --workers $want_slots ..."
    echo "$HOST:$REST_PORT"
}

cmd_stop() {
    local h
    if [ -f "$STATE" ]; then
        for h in $(sed -n 's/^remote=//p' "$STATE"); do
            say "stopping the TaskManagers on $h over ssh"
            remote "$h" _stop-local --dir "$DIR" || say "warning: could not stop the JVMs on $h over ssh"
        done
    fi
    stop_local
    rm -f "$STATE"
    say "stopped: no JVM of $DIR is left on $(hostname)"
}

cmd_status() {
    local rc=0 h rest overview
    status_local || rc=$?
    if [ -f "$STATE" ]; then
        for h in $(sed -n 's/^remote=//p' "$STATE"); do
            remote "$h" _status-local --dir "$DIR" || rc=1
        done
        rest=$(sed -n 's/^rest=//p' "$STATE")
        if overview=$(rest_get "$rest" /overview); then
            echo "REST $rest: $(json_int taskmanagers "$overview") TaskManagers, $(json_int slots-total "$overview") slots ($(json_int slots-available "$overview") free), $(json_int jobs-running "$overview") jobs running"
        else
            echo "REST $rest: not answering"
            [ $rc -ne 0 ] || rc=1
        fi
    fi
    [ $rc -ne 3 ] || echo "no cluster is running from $DIR"
    return $rc
}

case "$CMD" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    _taskmanager)
        # Internal: run on a worker host over ssh by start.
        [ -n "$INDEX" ] && [ -n "$TM_HOST" ] || die "_taskmanager needs --index and --tm-host"
        [ -f "$LIB/flink-dist-$FLINK_VERSION.jar" ] || die "Flink is not set up on $(hostname): run scripts/setup-flink.sh there"
        write_conf
        tm_params
        start_taskmanager "$INDEX" "$TM_HOST"
        ;;
    _stop-local) stop_local ;;
    _status-local) status_local ;;
    *) die "unknown command '$CMD': use start, stop or status" ;;
esac
