// Transactions through the Java client (Kafka 3.9), run by test/txn/java.test.ts:
//   java -cp 'libs/*' Txn.java commit-abort <bootstrap> <topic>
//   java -cp 'libs/*' Txn.java fence <bootstrap> <topic>
//   java -cp 'libs/*' Txn.java consume-transform <bootstrap> <in> <out> <group> <count>   (read-process-write with sendOffsetsToTransaction)
//   java -cp 'libs/*' Txn.java read <bootstrap> <topic> <read_committed|read_uncommitted> <count> [<wait-ms>]
//   java -cp 'libs/*' Txn.java open <bootstrap> <topic> <txid> <n>   (produce in a transaction, then halt without ending it)
//   java -cp 'libs/*' Txn.java resume <bootstrap> <topic> <ready-file> <go-file>   (r0, r1 in a transaction, then
//       <ready-file>; once <go-file> exists (the broker restarted meanwhile) r2 and the commit; prints what read_committed sees)
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.*;

public class Txn {
  public static void main(String[] a) throws Exception {
    switch (a[0]) {
      case "commit-abort": commitAbort(a[1], a[2]); break;
      case "fence": fence(a[1], a[2]); break;
      case "consume-transform": consumeTransform(a[1], a[2], a[3], a[4], Integer.parseInt(a[5])); break;
      case "read": System.out.println(String.join(",", read(a[1], a[2], a[3], Integer.parseInt(a[4]), null, a.length > 5 ? Long.parseLong(a[5]) : 20000))); break;
      case "resume": resume(a[1], a[2], a[3], a[4]); break;
      case "open": open(a[1], a[2], a[3], Integer.parseInt(a[4])); break;
      default: throw new IllegalArgumentException(a[0]);
    }
  }

  static KafkaProducer<String, String> producer(String bootstrap, String txid) {
    return producer(bootstrap, txid, 10000);
  }

  static KafkaProducer<String, String> producer(String bootstrap, String txid, int txnTimeoutMs) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txid);
    p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(txnTimeoutMs));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  static KafkaConsumer<String, String> consumer(String bootstrap, String group, String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(p);
  }

  static List<String> read(String bootstrap, String topic, String isolation, int count, String group) {
    return read(bootstrap, topic, isolation, count, group, 20000);
  }

  /** Up to count records from the beginning, read for at most waitMs. */
  static List<String> read(String bootstrap, String topic, String isolation, int count, String group, long waitMs) {
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = consumer(bootstrap, group, isolation)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (org.apache.kafka.common.PartitionInfo pi : c.partitionsFor(topic)) tps.add(new TopicPartition(topic, pi.partition()));
      c.assign(tps);
      c.seekToBeginning(tps);
      long deadline = System.currentTimeMillis() + waitMs;
      while (out.size() < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) out.add(r.value());
      }
    }
    return out;
  }

  static void commitAbort(String bootstrap, String topic) {
    try (KafkaProducer<String, String> p = producer(bootstrap, "java-ca")) {
      p.initTransactions();
      String[][] txns = {{"c0", "c1", "c2"}, {"a0", "a1"}, {"c3", "c4"}};
      for (int i = 0; i < txns.length; i++) {
        p.beginTransaction();
        for (String v : txns[i]) p.send(new ProducerRecord<>(topic, v, v));
        p.flush();
        if (i == 1) p.abortTransaction(); else p.commitTransaction();
      }
    }
    System.out.println("read_committed=" + String.join(",", read(bootstrap, topic, "read_committed", 5, null)));
    System.out.println("read_uncommitted=" + String.join(",", read(bootstrap, topic, "read_uncommitted", 7, null)));
  }

  static void fence(String bootstrap, String topic) {
    KafkaProducer<String, String> zombie = producer(bootstrap, "java-fence");
    zombie.initTransactions();
    zombie.beginTransaction();
    zombie.send(new ProducerRecord<>(topic, "z", "zombie"));
    zombie.flush();
    try (KafkaProducer<String, String> fresh = producer(bootstrap, "java-fence")) {
      fresh.initTransactions();
      fresh.beginTransaction();
      fresh.send(new ProducerRecord<>(topic, "f", "fresh"));
      fresh.commitTransaction();
    }
    // The zombie's next write is refused (InvalidProducerEpochException, abortable, as from
    // Apache Kafka 2.7 on); aborting then fails for good with ProducerFencedException.
    String outcome = "committed";
    try {
      zombie.send(new ProducerRecord<>(topic, "z", "zombie-2"));
      zombie.commitTransaction();
    } catch (KafkaException e) {
      outcome = e.getClass().getSimpleName();
      try {
        zombie.abortTransaction();
        outcome += ", then aborted";
      } catch (KafkaException e2) {
        outcome += ", then " + e2.getClass().getSimpleName();
      }
    }
    zombie.close(Duration.ZERO);
    System.out.println("zombie=" + outcome);
    System.out.println("read_committed=" + String.join(",", read(bootstrap, topic, "read_committed", 1, null)));
  }

  static void consumeTransform(String bootstrap, String in, String out, String group, int count) {
    int done = 0;
    try (KafkaConsumer<String, String> c = consumer(bootstrap, group, "read_committed");
         KafkaProducer<String, String> p = producer(bootstrap, "java-ct-" + group)) {
      p.initTransactions();
      c.subscribe(Collections.singletonList(in));
      long deadline = System.currentTimeMillis() + 60000;
      while (done < count && System.currentTimeMillis() < deadline) {
        ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
        if (recs.isEmpty()) continue;
        p.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : recs) {
          if (done >= count) break;
          p.send(new ProducerRecord<>(out, r.key(), r.value().toUpperCase()));
          offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
          done++;
        }
        p.sendOffsetsToTransaction(offsets, c.groupMetadata());
        p.commitTransaction();
      }
    }
    System.out.println("transformed=" + done);
  }

  static void open(String bootstrap, String topic, String txid, int n) {
    KafkaProducer<String, String> p = producer(bootstrap, txid);
    p.initTransactions();
    p.beginTransaction();
    for (int i = 0; i < n; i++) p.send(new ProducerRecord<>(topic, "o" + i, "open-" + i));
    p.flush();
    System.out.println("produced");
    System.out.flush();
    Runtime.getRuntime().halt(0);
  }

  static void resume(String bootstrap, String topic, String ready, String go) throws Exception {
    // A transaction timeout longer than the broker's restart, so that the coordinator keeps it open.
    try (KafkaProducer<String, String> p = producer(bootstrap, "java-restart", 120000)) {
      p.initTransactions();
      p.beginTransaction();
      for (String v : new String[] {"r0", "r1"}) p.send(new ProducerRecord<>(topic, v, v));
      p.flush();
      new java.io.File(ready).createNewFile();
      long deadline = System.currentTimeMillis() + 120000;
      while (!new java.io.File(go).exists() && System.currentTimeMillis() < deadline) Thread.sleep(50);
      p.send(new ProducerRecord<>(topic, "r2", "r2"));
      p.flush();
      p.commitTransaction();
    }
    System.out.println("read_committed=" + String.join(",", read(bootstrap, topic, "read_committed", 3, null)));
  }
}
