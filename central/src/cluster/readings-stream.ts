/**
 * The workers' side of JetStream: the partitioned readings stream with its durable consumer per
 * partition (created once, by whichever worker comes first), and the reader of one partition that
 * hands its owner batches in stream order.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ClusterConfig } from '@shelfsense/protocol';
import type { Logger } from 'pino';
import type { Lease } from '../store/pg/leases.js';
import { consumerName, PARTITIONED_PREFIX, partitionFilter, READINGS_STREAM } from './partition.js';

/** A partial batch waits this long for more before it is committed (as central's ingest.flushMs). */
const FLUSH_MS = 20;

/** Creates the readings stream and a durable consumer per partition, unless they exist. */
export async function ensureReadingsStream(jsm: JetStreamManager, c: ClusterConfig): Promise<void> {
  try {
    await jsm.streams.info(READINGS_STREAM);
  } catch {
    await jsm.streams
      .add({
        name: READINGS_STREAM,
        subjects: [`${PARTITIONED_PREFIX}.>`],
        // Interest: a message goes once its partition's consumer acknowledged it. (A work queue
        // would do the same but takes only one acknowledgement per message; see below.)
        retention: RetentionPolicy.Interest,
        storage: StorageType.File,
        num_replicas: c.replicas,
      })
      .catch(async (err: Error) => {
        // Another worker created it meanwhile.
        await jsm.streams.info(READINGS_STREAM).catch(() => {
          throw err;
        });
      });
  }
  for (let p = 0; p < c.partitions; p++) {
    const name = consumerName(p);
    const exists = await jsm.consumers.info(READINGS_STREAM, name).then(
      () => true,
      () => false,
    );
    if (exists) continue;
    await jsm.consumers
      .add(READINGS_STREAM, {
        durable_name: name,
        filter_subject: partitionFilter(p),
        // One acknowledgement per batch, for its last message: each is a write replicated on
        // every node holding the consumer, which per message cost more than the reading.
        ack_policy: AckPolicy.All,
        deliver_policy: DeliverPolicy.All,
        ack_wait: c.ackWaitMs * 1_000_000,
        // One batch out at a time: a partition's readings are processed in stream order, and a
        // batch given back is handed out again before anything after it.
        max_ack_pending: c.batchSize,
        num_replicas: c.replicas,
      })
      .catch(async (err: Error) => {
        await jsm.consumers.info(READINGS_STREAM, name).catch(() => {
          throw err;
        });
      });
  }
}

export interface PartitionReader {
  lease: Lease;
  stopped: boolean;
  done: Promise<void>;
  /** Ends the partition's message stream (its reader then gives back what it holds). */
  end(): void;
}

export interface ReadPartitionOptions {
  nc: NatsConnection;
  partition: number;
  lease: Lease;
  batchSize: number;
  /**
   * A batch to commit and acknowledge (`ackAll`: by its last message), under the lease's epoch at
   * the time; called synchronously, between two messages of the stream.
   */
  onBatch(batch: JsMsg[], ackAll: boolean, epoch: number): void;
  /** The whole worker is stopping. */
  stopping(): boolean;
  log: Logger;
}

/**
 * Reads one partition as a continuous pull (the consumer hands out at most a batch unacknowledged,
 * so messages come in stream order), handing over a batch when it is full or FLUSH_MS after its
 * first message. What it holds when it ends goes back to JetStream at once.
 */
export function readPartition(o: ReadPartitionOptions): PartitionReader {
  let messages: ConsumerMessages | null = null;
  const state: PartitionReader = {
    lease: o.lease,
    stopped: false,
    done: Promise.resolve(),
    end: () => {
      state.stopped = true;
      messages?.stop();
    },
  };
  let ackAll = false;
  state.done = (async () => {
    while (!state.stopped && !o.stopping()) {
      const buf: JsMsg[] = [];
      let timer: NodeJS.Timeout | null = null;
      const flush = () => {
        if (timer) clearTimeout(timer);
        timer = null;
        if (buf.length === 0) return;
        const batch = buf.splice(0);
        if (state.stopped) for (const m of batch) m.nak();
        else o.onBatch(batch, ackAll, state.lease.epoch);
      };
      try {
        const consumer = await jetstream(o.nc).consumers.get(READINGS_STREAM, consumerName(o.partition));
        if (state.stopped) break;
        // A stream made before batches were acknowledged whole has per-message consumers.
        ackAll = (await consumer.info(true)).config.ack_policy === AckPolicy.All;
        messages = await consumer.consume({ max_messages: o.batchSize });
        for await (const m of messages) {
          if (state.stopped) {
            m.nak();
            continue;
          }
          buf.push(m);
          if (buf.length >= o.batchSize) flush();
          else timer ??= setTimeout(flush, FLUSH_MS);
        }
      } catch (err) {
        o.log.warn(
          { err: (err as Error).message, partition: o.partition },
          'partition read failed; retrying',
        );
        await new Promise((r) => setTimeout(r, 500));
      } finally {
        if (timer) clearTimeout(timer);
        // Handed back at once rather than after ackWaitMs: the next holder starts from them.
        for (const m of buf.splice(0)) m.nak();
        messages = null;
      }
    }
  })();
  return state;
}
