// A Kafka Streams word count with processing.guarantee=exactly_once_v2 and a state store, run by
// test/txn/streams.test.ts against a 3-broker kafkit cluster:
//   java -cp 'streams-libs/*:kafka-libs/*' WordCount.java run <bootstrap> <input> <output> <app-id> <state-dir>
//   java ... WordCount.java dump <bootstrap> <output> [isolation]   (every "word=count" update, in order, per partition)
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import org.apache.kafka.streams.*;
import org.apache.kafka.streams.kstream.*;

public class WordCount {
  public static void main(String[] a) throws Exception {
    if (a[0].equals("run")) run(a[1], a[2], a[3], a[4], a[5]);
    else dump(a[1], a[2], a.length > 3 ? a[3] : "read_committed");
  }

  static void run(String bootstrap, String input, String output, String appId, String stateDir) throws Exception {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
    // No record cache: every count update is sent at once, so open transactions hold output.
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 3);
    p.put(StreamsConfig.topicPrefix("min.insync.replicas"), 2);
    p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.String().getClass());
    p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.String().getClass());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
    StreamsBuilder b = new StreamsBuilder();
    b.<String, String>stream(input)
      .flatMapValues(v -> Arrays.asList(v.toLowerCase().split("\\s+")))
      .groupBy((k, w) -> w)
      .count(Materialized.as("counts"))
      .toStream()
      .to(output, Produced.with(Serdes.String(), Serdes.Long()));
    KafkaStreams streams = new KafkaStreams(b.build(), p);
    streams.setUncaughtExceptionHandler(e -> {
      System.err.println("uncaught: " + e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.setStateListener((n, o) -> System.out.println("state " + n));
    // The client release on the classpath (the test checks it is the Streams release under test).
    System.out.println("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> streams.close(Duration.ofSeconds(10))));
    streams.start();
    Thread.currentThread().join();
  }

  static void dump(String bootstrap, String output, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LongDeserializer.class.getName());
    try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (org.apache.kafka.common.PartitionInfo pi : c.partitionsFor(output)) tps.add(new TopicPartition(output, pi.partition()));
      c.assign(tps);
      c.seekToBeginning(tps);
      Map<TopicPartition, Long> end = c.endOffsets(tps);
      long deadline = System.currentTimeMillis() + 30000;
      while (System.currentTimeMillis() < deadline) {
        boolean done = true;
        for (TopicPartition tp : tps) if (c.position(tp) < end.get(tp)) done = false;
        if (done) break;
        for (ConsumerRecord<String, Long> r : c.poll(Duration.ofMillis(200))) System.out.println(r.key() + "=" + r.value());
      }
    }
  }
}
