#!/usr/bin/env bash
# Fetches Apicurio Registry (the schema registry that keeps its schemas in a Kafka topic with
# storage kind kafkasql) from Maven Central: the ready-built Quarkus application that the release
# attaches to io.apicurio:apicurio-registry-app as its "all" tar.gz (quarkus-run.jar with lib/,
# app/ and quarkus/), unpacked into $HOME/.cache/apicurio-registry-<major.minor>/quarkus-app, for
# test/txn/apicurio.test.ts. APICURIO_VERSION picks the release (3.3.3 unless set).
# Apicurio 3.x needs Java 21 or newer: the script looks for one ($APICURIO_JAVA, $JAVA_HOME, java
# on the PATH, then the JDKs in /usr/lib/jvm) and writes its path to <cache>/java for the test.
# Idempotent; needs mvn and tar. Exits non-zero, saying why, when it cannot fetch or finds no Java.
set -euo pipefail
VER=${APICURIO_VERSION:-3.3.3}
DIR=${1:-$HOME/.cache/apicurio-registry-${VER%.*}}
fail() { echo "fetch-apicurio: $*" >&2; exit 1; }

java_major() { # prints the feature release of the java binary $1 (17, 21, 25, ...)
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
find_java() {
  local candidates=() c m
  [ -n "${APICURIO_JAVA:-}" ] && candidates+=("$APICURIO_JAVA")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for c in /usr/lib/jvm/*/bin/java; do [ -x "$c" ] && candidates+=("$c"); done
  for c in "${candidates[@]}"; do
    [ -x "$c" ] || continue
    m=$(java_major "$c")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then echo "$c"; return 0; fi
  done
  return 1
}

JAVA_BIN=$(find_java) || fail "Apicurio Registry $VER needs Java 21 or newer and none was found (set APICURIO_JAVA to one)"
if [ -f "$DIR/.complete-$VER" ]; then
  echo "$JAVA_BIN" >"$DIR/java"
  exit 0
fi
rm -rf "$DIR/quarkus-app"
mkdir -p "$DIR/quarkus-app"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && mvn -q -B dependency:get -Dartifact="io.apicurio:apicurio-registry-app:$VER:tar.gz:all" -Dtransitive=false -Ddest="$tmp/app.tar.gz") \
  || fail "could not fetch io.apicurio:apicurio-registry-app:$VER:tar.gz:all from Maven Central"
tar -xzf "$tmp/app.tar.gz" -C "$DIR/quarkus-app" || fail "could not unpack apicurio-registry-app-$VER-all.tar.gz"
[ -f "$DIR/quarkus-app/quarkus-run.jar" ] || fail "apicurio-registry-app-$VER-all.tar.gz holds no quarkus-run.jar"
echo "$JAVA_BIN" >"$DIR/java"
touch "$DIR/.complete-$VER"
