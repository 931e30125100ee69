// test/interop/kafka-read.mjs: the interop tests' Kafka reader (kafkajs).
// readAll(brokers, topic) returns every record of a topic, from the first
// offset to the end as the admin API sees it when called (one partition
// each: the mock cluster creates topics with one), read by a consumer
// group of its own; it fails after 30 s when records are missing.
import { Kafka, logLevel } from 'kafkajs';

export async function readAll(brokers, topic) {
  const kafka = new Kafka({ clientId: 'tributary-interop', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  const consumer = kafka.consumer({ groupId: `interop-${process.pid}-${topic}` });
  const out = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${topic}: read ${out.length} of ${want}`)), 30000);
    consumer.run({
      eachMessage: async ({ message }) => {
        out.push(message);
        if (out.length >= want) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
    if (want === 0) { clearTimeout(timer); resolve(); }
  });
  await consumer.disconnect();
  return out;
}
