#!/usr/bin/env bash
# Installs Apache Flink 2.3 for `weir run --engine flink` and compiles weir's Java job.
#
# Idempotent: the wheel (329 MB) is downloaded once into .flink/wheel, unpacked once into
# .flink/site, and the Java sources in workloads/flink/src are recompiled into .flink/classes
# only when one of them is newer than the last build. Everything lives under .flink/ at the
# repository root (git-ignored). Needs java and javac (17+) and pip.
#
# Flink's jars come from PyPI's apache-flink-libraries (flink-dist with the MiniCluster and the
# new Source API, the table planner loader and runtime); no Maven is needed.
set -euo pipefail
SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
ROOT=$(pwd)
FLINK_VERSION=2.3.0
DIR="$ROOT/.flink"
LIB="$DIR/site/pyflink/lib"
SRC="$ROOT/workloads/flink/src"
RESOURCES="$ROOT/workloads/flink/resources"
CLASSES="$DIR/classes"
# The job jar a Flink cluster receives (weir run --flink-cluster uploads it with the job).
JOB_JAR="$DIR/weir-flink-job.jar"

say() { printf 'setup-flink: %s\n' "$*" >&2; }
die() { printf 'setup-flink: error: %s\n' "$*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || die "java not found on PATH; install a Java 17 runtime (e.g. apt-get install openjdk-17-jdk-headless) and run scripts/setup-flink.sh again"
command -v javac >/dev/null 2>&1 || die "javac not found on PATH; install a Java 17 JDK (e.g. apt-get install openjdk-17-jdk-headless) and run scripts/setup-flink.sh again"
PIP=""
for p in pip3 pip; do
    if command -v "$p" >/dev/null 2>&1; then PIP=$p; break; fi
done
if [ -z "$PIP" ] && command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    PIP="python3 -m pip"
fi
[ -n "$PIP" ] || die "pip not found; install Python 3 with pip (e.g. apt-get install python3-pip) and run scripts/setup-flink.sh again"

java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
case "$java_major" in
    ''|1.*) die "java ${java_major:-of unknown version} is too old; Flink $FLINK_VERSION needs Java 17 or newer" ;;
esac
[ "$java_major" -ge 17 ] || die "java $java_major is too old; Flink $FLINK_VERSION needs Java 17 or newer"

mkdir -p "$DIR"
if [ -f "$LIB/flink-dist-$FLINK_VERSION.jar" ]; then
    say "Flink $FLINK_VERSION already installed in $LIB (skipped the download)"
else
    WHEEL=$(ls "$DIR"/wheel/apache_flink_libraries-"$FLINK_VERSION"-*.whl 2>/dev/null | head -n1 || true)
    if [ -z "$WHEEL" ]; then
        say "downloading apache-flink-libraries==$FLINK_VERSION (329 MB, once) into $DIR/wheel"
        $PIP download --quiet --no-deps --dest "$DIR/wheel" "apache-flink-libraries==$FLINK_VERSION" \
            || die "pip could not download apache-flink-libraries==$FLINK_VERSION (is PyPI reachable?)"
    else
        say "using the downloaded wheel $WHEEL"
    fi
    rm -rf "$DIR/site.tmp"
    $PIP install --quiet --no-deps --no-index --find-links "$DIR/wheel" --target "$DIR/site.tmp" \
        "apache-flink-libraries==$FLINK_VERSION" || die "pip could not install the wheel from $DIR/wheel"
    rm -rf "$DIR/site"
    mv "$DIR/site.tmp" "$DIR/site"
    [ -f "$LIB/flink-dist-$FLINK_VERSION.jar" ] || die "the wheel has no $LIB/flink-dist-$FLINK_VERSION.jar"
    say "installed Flink $FLINK_VERSION jars into $LIB"
fi

STAMP="$CLASSES/.built"
if [ -f "$STAMP" ] && [ -z "$(find "$SRC" "$RESOURCES" -type f -newer "$STAMP" | head -n1)" ] \
    && [ "$SELF" -ot "$STAMP" ] && [ -f "$JOB_JAR" ] && [ ! "$JOB_JAR" -ot "$STAMP" ]; then
    say "Java job up to date in $CLASSES (skipped javac)"
else
    rm -rf "$CLASSES.tmp"
    mkdir -p "$CLASSES.tmp"
    mapfile -t SOURCES < <(find "$SRC" -name '*.java' | sort)
    say "compiling ${#SOURCES[@]} Java sources from workloads/flink/src into $CLASSES"
    javac -nowarn -encoding UTF-8 --release 17 -cp "$LIB/*" -d "$CLASSES.tmp" "${SOURCES[@]}" \
        || die "javac failed on workloads/flink/src (see the errors above)"
    # Service files (Flink finds weir's metric reporter through META-INF/services).
    cp -R "$RESOURCES/." "$CLASSES.tmp/"
    rm -rf "$CLASSES"
    mv "$CLASSES.tmp" "$CLASSES"
    touch "$STAMP"
    say "packing $JOB_JAR (the job jar a Flink cluster receives)"
    command -v jar >/dev/null 2>&1 || die "jar not found on PATH; it comes with the JDK (e.g. apt-get install openjdk-17-jdk-headless)"
    jar --create --file "$JOB_JAR.tmp" -C "$CLASSES" weir -C "$CLASSES" META-INF \
        || die "jar could not pack $CLASSES into $JOB_JAR"
    mv "$JOB_JAR.tmp" "$JOB_JAR"
    touch -r "$STAMP" "$JOB_JAR"
fi
say "ready: java -cp \"$CLASSES:$LIB/*\" weir.flink.Main (weir run --engine flink uses it; the job jar is $JOB_JAR)"
