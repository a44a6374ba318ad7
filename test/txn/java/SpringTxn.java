// Spring Kafka (no Spring Boot) with a transaction-id-prefix, run by test/txn/spring.test.ts
// against a 3-broker kafkit cluster, on spring-kafka's own jars (scripts/fetch-spring-kafka.sh):
//   java -cp 'spring-libs/*' SpringTxn.java produce <bootstrap> <topic> <batches>
//     KafkaTemplate.executeInTransaction: batch b is 10 records "in-b-0".."in-b-9", committed;
//     every 4th batch is followed by a transaction sending "bad-b-0".."bad-b-4" that throws (aborted).
//   java ... SpringTxn.java process <bootstrap> <in> <out> <group> <delay-ms>
//     consume-process-produce: a ConcurrentMessageListenerContainer with a KafkaTransactionManager
//     sends "p:<value>" to <out> for each record, its offsets in the same transaction; the first
//     delivery of "in-3-4" sends its output and then throws (that transaction is rolled back and
//     the record redelivered). Runs until killed; prints "processed <value>" per delivery.
//   java ... SpringTxn.java dump <bootstrap> <topic> <isolation>   (every "value<TAB>partition<TAB>offset", one a line)
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;
import org.springframework.kafka.core.*;
import org.springframework.kafka.listener.*;
import org.springframework.kafka.transaction.KafkaTransactionManager;

public class SpringTxn {
  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "produce" -> produce(a[1], a[2], Integer.parseInt(a[3]));
      case "process" -> process(a[1], a[2], a[3], a[4], Integer.parseInt(a[5]));
      default -> dump(a[1], a[2], a[3]);
    }
  }

  static DefaultKafkaProducerFactory<String, String> producerFactory(String bootstrap, String prefix) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20000);
    DefaultKafkaProducerFactory<String, String> pf = new DefaultKafkaProducerFactory<>(p);
    pf.setTransactionIdPrefix(prefix);
    return pf;
  }

  static void produce(String bootstrap, String topic, int batches) {
    DefaultKafkaProducerFactory<String, String> pf = producerFactory(bootstrap, "tx-");
    KafkaTemplate<String, String> template = new KafkaTemplate<>(pf);
    for (int b = 0; b < batches; b++) {
      final int batch = b;
      template.executeInTransaction(t -> {
        for (int j = 0; j < 10; j++) t.send(topic, "k" + batch, "in-" + batch + "-" + j);
        return null;
      });
      System.out.println("committed " + b);
      if (b % 4 == 1) {
        try {
          template.executeInTransaction(t -> {
            for (int j = 0; j < 5; j++) t.send(topic, "k" + batch, "bad-" + batch + "-" + j);
            t.flush();
            throw new IllegalStateException("abort batch " + batch);
          });
        } catch (IllegalStateException e) {
          System.out.println("aborted " + b);
        }
      }
    }
    pf.destroy();
    System.out.println("produced");
  }

  static void process(String bootstrap, String in, String out, String group, int delayMs) throws Exception {
    DefaultKafkaProducerFactory<String, String> pf = producerFactory(bootstrap, "tx-loop-");
    KafkaTemplate<String, String> template = new KafkaTemplate<>(pf);
    KafkaTransactionManager<String, String> tm = new KafkaTransactionManager<>(pf);
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
    c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10000);
    c.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    ContainerProperties props = new ContainerProperties(in);
    props.setKafkaAwareTransactionManager(tm);
    AtomicBoolean failed = new AtomicBoolean();
    props.setMessageListener((MessageListener<String, String>) r -> {
      template.send(out, r.key(), "p:" + r.value());
      System.out.println("processed " + r.value());
      if (r.value().equals("in-3-4") && failed.compareAndSet(false, true)) {
        template.flush();
        throw new IllegalStateException("fail once on " + r.value());
      }
      if (delayMs > 0) {
        try { Thread.sleep(delayMs); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
      }
    });
    ConcurrentMessageListenerContainer<String, String> container = new ConcurrentMessageListenerContainer<>(new DefaultKafkaConsumerFactory<>(c), props);
    container.setConcurrency(2);
    container.start();
    System.out.println("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion());
    System.out.println("started");
    Thread.currentThread().join();
  }

  static void dump(String bootstrap, String topic, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (org.apache.kafka.common.PartitionInfo pi : consumer.partitionsFor(topic)) tps.add(new TopicPartition(topic, pi.partition()));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps);
      long deadline = System.currentTimeMillis() + 30000;
      while (System.currentTimeMillis() < deadline) {
        boolean done = true;
        for (TopicPartition tp : tps) if (consumer.position(tp) < end.get(tp)) done = false;
        if (done) break;
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) System.out.println(r.value() + "\t" + r.partition() + "\t" + r.offset());
      }
    }
  }
}
