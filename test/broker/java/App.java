// A plain Java application as a Spring Kafka app is configured (the Java client's defaults:
// acks=all, idempotent producer; a consumer with manual commits and
// auto.offset.reset=earliest), run by test/broker/java-app.test.ts against kafkit's broker.
//   java -cp 'libs/*' App.java produce <bootstrap> <topic> <count>
//   java -cp 'libs/*' App.java consume <bootstrap> <topic> <group> <count>
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

public class App {
  public static void main(String[] a) throws Exception {
    if (a[0].equals("produce")) produce(a[1], a[2], Integer.parseInt(a[3]));
    else consume(a[1], a[2], a[3], Integer.parseInt(a[4]));
  }

  static void produce(String bootstrap, String topic, int count) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
      for (int i = 0; i < count; i++) sent.add(producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
      long last = -1;
      for (java.util.concurrent.Future<RecordMetadata> f : sent) last = f.get().offset();
      System.out.println("sent " + count + " last offset " + last);
    }
  }

  static void consume(String bootstrap, String topic, String group, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    int seen = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(Collections.singletonList(topic));
      long deadline = System.currentTimeMillis() + 60000;
      while (seen < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          if (seen == count) break;
          System.out.println(r.value());
          seen++;
          // Manual commit after each record is processed, as an app with ack mode RECORD does.
          consumer.commitSync(Collections.singletonMap(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1)));
        }
      }
    }
    System.err.println("consumed " + seen);
  }
}
