#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM) on 127.0.0.1,
# for tests, CI and the demo. The jars come from Maven Central through the pom.xml beside this script.
# Shipped as package data of latentwatch.kafka (`latentwatch kafka ...` runs it from an installed wheel);
# in a checkout, scripts/kafka.sh runs this same file.
#
#   kafka.sh fetch    download the broker jars into the cache (once; reused afterwards)
#   kafka.sh start    fetch if needed, format storage if new, start, wait until it answers;
#                             prints the bootstrap address (127.0.0.1:PORT) on stdout
#   kafka.sh stop     SIGTERM, wait for a clean exit, SIGKILL after a timeout; keeps the data
#   kafka.sh status   exit 0 when the broker answers a metadata request
#   kafka.sh wipe     stop it if running, then delete the data dir
#
# Every subcommand is idempotent. Settings (environment):
#   LATENTWATCH_KAFKA_PORT             client (PLAINTEXT) port             default 19092
#   LATENTWATCH_KAFKA_CONTROLLER_PORT  KRaft controller port               default PORT+1
#   LATENTWATCH_KAFKA_DATA             data, config, logs, pid file        default <repo>/var/kafka in a checkout,
#                                      else ${XDG_DATA_HOME:-~/.local/share}/latentwatch/kafka
#   LATENTWATCH_KAFKA_HOME             jar cache (libs/ inside)            default ~/.cache/latentwatch/kafka-<version>
#   LATENTWATCH_KAFKA_HEAP             JVM heap options                    default "-Xms256m -Xmx512m"
#   LATENTWATCH_KAFKA_JVM_OPTS         other JVM options                   default "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
#                                      (starts ~30% faster than G1 + C2 on 2 cores; plenty for tests and the demo)
#   LATENTWATCH_KAFKA_START_TIMEOUT    seconds to wait for the broker      default 90
#   LATENTWATCH_KAFKA_STOP_TIMEOUT     seconds to wait for a clean exit    default 60
#   LATENTWATCH_PYTHON                 python with kafka-python, for the readiness check
#                                      default <repo>/.venv/bin/python in a checkout, else python3
#   MVN                                maven command                       default mvn
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM="$HERE/pom.xml"
# A checkout (latentwatch/kafka/ under the repo root) keeps its broker data and venv in the repo; an installed
# package (site-packages) has no repo, so the data goes to the user's data dir.
REPO=$(cd "$HERE/../.." && pwd)
if [[ -f $REPO/pyproject.toml && -d $REPO/latentwatch ]]; then DEFAULT_DATA=$REPO/var/kafka
else REPO=""; DEFAULT_DATA=${XDG_DATA_HOME:-$HOME/.local/share}/latentwatch/kafka
fi
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)

PORT=${LATENTWATCH_KAFKA_PORT:-19092}
CONTROLLER_PORT=${LATENTWATCH_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
BOOTSTRAP="127.0.0.1:$PORT"
DATA=${LATENTWATCH_KAFKA_DATA:-$DEFAULT_DATA}
KAFKA_HOME=${LATENTWATCH_KAFKA_HOME:-$HOME/.cache/latentwatch/kafka-$KAFKA_VERSION}
LIBS="$KAFKA_HOME/libs"
HEAP=${LATENTWATCH_KAFKA_HEAP:--Xms256m -Xmx512m}
JVM_OPTS=${LATENTWATCH_KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1}
START_TIMEOUT=${LATENTWATCH_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${LATENTWATCH_KAFKA_STOP_TIMEOUT:-60}
MVN=${MVN:-mvn}

LOG_DIRS="$DATA/data"          # Kafka's "log.dirs": the partitions and the KRaft metadata log
APP_LOGS="$DATA/logs"          # server.log (log4j2) and kafka.out (stdout/stderr of the JVM)
PID_FILE="$DATA/kafka.pid"
FORMAT_STAMP="$DATA/formatted" # cluster id and controller address the storage was formatted with

say() { echo "kafka.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH; $2"
}

python_bin() {
    if [[ -n ${LATENTWATCH_PYTHON:-} ]]; then echo "$LATENTWATCH_PYTHON"
    elif [[ -n $REPO && -x $REPO/.venv/bin/python ]]; then echo "$REPO/.venv/bin/python"
    else echo python3
    fi
}

# Holds an exclusive lock on file $1 until this process exits (concurrent starts/fetches wait).
lock() {
    mkdir -p "$(dirname "$1")"
    if command -v flock >/dev/null 2>&1; then
        local fd
        exec {fd}>"$1"
        flock -w 600 "$fd" || die "could not lock $1 within 600 s"
        LOCK_FDS+=("$fd")
    fi
}
LOCK_FDS=()

# --- fetch -----------------------------------------------------------------------------------

pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

fetched() {
    [[ -f $LIBS/kafka_2.13-$KAFKA_VERSION.jar && -f $LIBS/.pom.sha256 ]] &&
        [[ $(cat "$LIBS/.pom.sha256") == "$(pom_sum)" ]]
}

cmd_fetch() {
    lock "$KAFKA_HOME/.fetch.lock"
    if fetched; then
        say "jars for Kafka $KAFKA_VERSION already in $LIBS"
        return 0
    fi
    need java "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
    need "$MVN" "install Maven 3.6+ (e.g. apt-get install maven); it fetches the broker jars from Maven Central"
    say "fetching Kafka $KAFKA_VERSION jars into $LIBS (maven, $POM)"
    local tmp="$KAFKA_HOME/libs.tmp.$$"
    rm -rf "$tmp"
    # (sed: Debian's Maven 3.8 prints stray colour codes even in batch mode)
    "$MVN" -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" 2>&1 |
        sed 's/\x1b\[[0-9;]*m//g' >&2 ||
        { rm -rf "$tmp"; die "maven could not fetch the Kafka jars (see above)"; }
    pom_sum >"$tmp/.pom.sha256"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars"
}

# --- process and readiness -------------------------------------------------------------------

# Prints the pid of the broker this script started for $DATA, if it is still alive.
broker_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid stat
    pid=$(cat "$PID_FILE")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
    [[ $stat != Z* ]] || return 1                           # exited, not yet reaped
    ps -o args= -p "$pid" | grep -q -- "kafka.Kafka $DATA/server.properties" || return 1
    echo "$pid"
}

# Exit 0 when a broker on $BOOTSTRAP answers a metadata request and lists itself.
answers() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || return 1    # cheap: port closed -> no
    "$(python_bin)" - "$BOOTSTRAP" <<'PY' 2>/dev/null
import logging, sys
logging.disable(logging.CRITICAL)
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers=sys.argv[1], client_id="latentwatch-kafka-sh",
                         request_timeout_ms=5000, bootstrap_timeout_ms=5000)
try:
    sys.exit(0 if admin.describe_cluster()["brokers"] else 1)
finally:
    admin.close()
PY
}

check_python() {
    local py
    py=$(python_bin)
    "$py" -c 'import kafka' 2>/dev/null ||
        die "the readiness check needs kafka-python: '$py' cannot import kafka (set LATENTWATCH_PYTHON or create .venv)"
}

# --- start -----------------------------------------------------------------------------------

write_config() {
    mkdir -p "$LOG_DIRS" "$APP_LOGS"
    cat >"$DATA/server.properties" <<EOF
# Written by kafka.sh (latentwatch/kafka/) on every start; edit the script, not this file.
# Single node: KRaft broker and controller in one process, everything on loopback.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER

log.dirs=$LOG_DIRS

# One replica of everything; internal topics small so the first group/transaction starts fast.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Topics are created explicitly (tests: the kafka_topics fixture).
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=4
group.initial.rebalance.delay.ms=0

# Small segments and indexes; no time-based deletion (replayed data may carry old timestamps),
# but at most 256 MiB kept per partition. scripts/kafka.sh wipe clears everything.
log.segment.bytes=8388608
log.index.size.max.bytes=1048576
log.retention.ms=-1
log.retention.bytes=268435456
log.retention.check.interval.ms=60000
log.cleaner.dedupe.buffer.size=16777216

# Modest thread counts for a laptop or a 2-core CI runner.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
EOF

    cat >"$DATA/log4j2.properties" <<EOF
# Written by scripts/kafka.sh. Broker log: $APP_LOGS/server.log (rolled at 10 MiB, 3 kept).
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $APP_LOGS/server.log
appender.file.filePattern = $APP_LOGS/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = warn
EOF
}

java_opts() {
    # shellcheck disable=SC2206  # HEAP and JVM_OPTS are lists of options on purpose
    JAVA_OPTS=($HEAP $JVM_OPTS -Djava.awt.headless=true
               "-Dlog4j2.configurationFile=$DATA/log4j2.properties" "-Dkafka.logs.dir=$APP_LOGS")
}

format_storage() {
    if [[ -f $LOG_DIRS/meta.properties ]]; then
        local want="controller=127.0.0.1:$CONTROLLER_PORT"
        if [[ -f $FORMAT_STAMP ]] && ! grep -qx "$want" "$FORMAT_STAMP"; then
            die "$DATA was formatted with another controller port ($(grep controller= "$FORMAT_STAMP")," \
                "now $want); use the old LATENTWATCH_KAFKA_CONTROLLER_PORT or 'scripts/kafka.sh wipe'"
        fi
        return 0
    fi
    java_opts
    local cluster_id
    cluster_id=$(java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool random-uuid)
    say "formatting $LOG_DIRS (cluster id $cluster_id, standalone KRaft quorum)"
    java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format --standalone \
        --cluster-id "$cluster_id" --config "$DATA/server.properties" >"$APP_LOGS/format.log" 2>&1 ||
        { cat "$APP_LOGS/format.log" >&2; die "formatting $LOG_DIRS failed"; }
    printf 'cluster.id=%s\ncontroller=127.0.0.1:%s\n' "$cluster_id" "$CONTROLLER_PORT" >"$FORMAT_STAMP"
}

cmd_start() {
    need java "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
    check_python
    lock "$DATA/.lock"
    local pid started=$SECONDS
    if pid=$(broker_pid); then
        if answers; then
            say "already running (pid $pid)"
            echo "$BOOTSTRAP"
            return 0
        fi
        say "pid $pid is alive but does not answer yet; waiting"
    elif answers; then
        say "a broker not started by this script for $DATA already answers on $BOOTSTRAP; using it"
        echo "$BOOTSTRAP"
        return 0
    else
        cmd_fetch
        write_config
        format_storage
        java_opts
        # The broker must not inherit our lock fds (it would hold the locks for its lifetime);
        # setsid gives it its own session, so a Ctrl-C aimed at the caller does not hit it.
        (
            for fd in "${LOCK_FDS[@]}"; do eval "exec $fd>&-"; done
            exec setsid java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$DATA/server.properties" \
                </dev/null >>"$APP_LOGS/kafka.out" 2>&1
        ) &
        pid=$!
        echo "$pid" >"$PID_FILE"
        say "started pid $pid (Kafka $KAFKA_VERSION, data $DATA, log $APP_LOGS/server.log)"
    fi

    local deadline=$((SECONDS + START_TIMEOUT))
    until answers; do
        if ! broker_pid >/dev/null; then
            say "the broker exited during start-up; last lines of its logs:"
            tail -n 30 "$APP_LOGS/kafka.out" "$APP_LOGS/server.log" >&2 2>/dev/null || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            say "no answer on $BOOTSTRAP after $START_TIMEOUT s; last lines of $APP_LOGS/server.log:"
            tail -n 30 "$APP_LOGS/server.log" >&2 2>/dev/null || true
            say "pid $pid is still running: 'scripts/kafka.sh start' waits for it again, 'stop' ends it"
            exit 1
        fi
        sleep 0.5
    done
    say "ready on $BOOTSTRAP after $((SECONDS - started)) s"
    echo "$BOOTSTRAP"
}

# --- stop, status, wipe ----------------------------------------------------------------------

cmd_stop() {
    lock "$DATA/.lock"
    local pid
    if ! pid=$(broker_pid); then
        rm -f "$PID_FILE"
        if answers; then
            say "a broker answers on $BOOTSTRAP but was not started by this script for $DATA; not stopping it"
            exit 1
        fi
        say "not running"
        return 0
    fi
    say "stopping pid $pid (SIGTERM, up to $STOP_TIMEOUT s)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while broker_pid >/dev/null; do
        if ((SECONDS >= deadline)); then
            say "no clean exit after $STOP_TIMEOUT s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 1
            break
        fi
        sleep 0.2
    done
    rm -f "$PID_FILE"
    say "stopped"
}

cmd_status() {
    check_python
    local pid=""
    pid=$(broker_pid) || true
    if answers; then
        say "running${pid:+ (pid $pid)}, bootstrap $BOOTSTRAP, data $DATA"
        echo "$BOOTSTRAP"
        return 0
    fi
    if [[ -n $pid ]]; then
        say "pid $pid is alive but does not answer on $BOOTSTRAP"
    else
        say "not running"
    fi
    return 1
}

cmd_wipe() {
    [[ -d $DATA ]] || { say "nothing to wipe at $DATA"; return 0; }
    # Refuse to delete a directory that does not look like ours (a mistyped LATENTWATCH_KAFKA_DATA).
    if [[ -n $(ls -A "$DATA") && ! -f $DATA/server.properties && ! -f $LOG_DIRS/meta.properties ]]; then
        die "$DATA does not look like a kafka.sh data dir; not deleting it"
    fi
    (cmd_stop)
    rm -rf "$DATA"
    say "deleted $DATA"
}

case ${1:-} in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wipe) cmd_wipe ;;
    *)
        echo "usage: $0 {start|stop|status|fetch|wipe}" >&2
        exit 2
        ;;
esac
