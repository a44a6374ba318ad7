#!/usr/bin/env bash
# Fetches Kafka Streams (3.9.1, with its RocksDB state store) and Kafka Connect's FileStream
# connectors (connect-file 3.9.1) from Maven Central into $HOME/.cache/kafka-streams-3.9/libs
# for test/txn/streams.test.ts and test/txn/connect.test.ts. Idempotent; needs mvn.
# The client jars come from the Apache Kafka 3.9 install (../shared/tools/apache-kafka).
set -euo pipefail
VER=${KAFKA_STREAMS_VERSION:-3.9.1}
DIR=${1:-$HOME/.cache/kafka-streams-3.9}
if [ -f "$DIR/.complete-$VER-connect" ]; then exit 0; fi
mkdir -p "$DIR/libs"
tmp=$(mktemp -d)
cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>kafka-streams-runtime</artifactId><version>1</version>
<dependencies>
<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-streams</artifactId><version>$VER</version></dependency>
<dependency><groupId>org.apache.kafka</groupId><artifactId>connect-file</artifactId><version>$VER</version></dependency>
</dependencies></project>
POM
(cd "$tmp" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$DIR/libs" -DincludeScope=runtime) \
  || { echo "fetch-kafka-streams: could not fetch kafka-streams $VER from Maven Central" >&2; rm -rf "$tmp"; exit 1; }
rm -rf "$tmp"
touch "$DIR/.complete-$VER-connect"
