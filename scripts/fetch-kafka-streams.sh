#!/usr/bin/env bash
# Fetches Kafka Streams (with its RocksDB state store and its kafka-clients) and Kafka Connect's
# FileStream connectors (connect-file) of one release from Maven Central into
# $HOME/.cache/kafka-streams-<major.minor>/libs, for test/txn/streams.test.ts and
# test/txn/connect.test.ts. KAFKA_STREAMS_VERSION picks the release (3.9.1 unless set; the tests
# also use 4.1.0, which lands in kafka-streams-4.1, apart from 3.9's jars). Idempotent; needs mvn.
set -euo pipefail
VER=${KAFKA_STREAMS_VERSION:-3.9.1}
DIR=${1:-$HOME/.cache/kafka-streams-${VER%.*}}
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
