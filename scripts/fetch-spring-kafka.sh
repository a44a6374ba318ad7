#!/usr/bin/env bash
# Fetches Spring Kafka (spring-kafka with its Spring Framework jars and its kafka-clients) of one
# release from Maven Central into $HOME/.cache/spring-kafka-<major.minor>/libs, for
# test/txn/spring.test.ts. SPRING_KAFKA_VERSION picks the release (4.1.2 unless set).
# Idempotent; needs mvn.
set -euo pipefail
VER=${SPRING_KAFKA_VERSION:-4.1.2}
DIR=${1:-$HOME/.cache/spring-kafka-${VER%.*}}
if [ -f "$DIR/.complete-$VER" ]; then exit 0; fi
mkdir -p "$DIR/libs"
tmp=$(mktemp -d)
cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>local</groupId><artifactId>spring-kafka-runtime</artifactId><version>1</version>
<dependencies>
<dependency><groupId>org.springframework.kafka</groupId><artifactId>spring-kafka</artifactId><version>$VER</version></dependency>
</dependencies></project>
POM
(cd "$tmp" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$DIR/libs" -DincludeScope=runtime) \
  || { echo "fetch-spring-kafka: could not fetch spring-kafka $VER from Maven Central" >&2; rm -rf "$tmp"; exit 1; }
rm -rf "$tmp"
touch "$DIR/.complete-$VER"
