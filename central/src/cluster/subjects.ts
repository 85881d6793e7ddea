/**
 * MQTT topic filters as NATS subjects, the way nats-server's MQTT interface maps them: levels
 * joined by `.`, `+` → `*`, `#` → `>`. nats-server 2.9 refuses a `.` inside an MQTT topic, and an
 * empty level has no subject form, so both are refused here rather than mapped to something else.
 */
import { ErrorCodes, ShelfError } from '@shelfsense/protocol';

/** Subject of NATS's own that an MQTT client needs: its QoS 1 deliveries (`$MQTT.sub.<nuid>`). */
export const MQTT_DELIVERY_SUBJECT = '$MQTT.sub.>';

/**
 * Subjects NATS keeps for itself in an account (JetStream's API and acks, the MQTT sessions,
 * streams and retained messages). A client allowed `>` would otherwise read them, with other
 * clients' retained messages and session records inside, and could publish into them.
 */
export const NATS_INTERNAL_SUBJECTS = [
  '$JS.>',
  '$JSC.>',
  '$KV.>',
  '$O.>',
  '$NRG.>',
  '$SYS.>',
  '$MQTT.JSA.>',
  '$MQTT.sess.>',
  '$MQTT.msgs.>',
  '$MQTT.rmsgs',
  '$MQTT.rmsgs.>',
] as const;

/** Every `$MQTT` subject: nobody publishes there; the server writes its own records. */
export const NATS_RESERVED_PUBLISH = [
  ...NATS_INTERNAL_SUBJECTS.filter((s) => !s.startsWith('$MQTT')),
  '$MQTT.>',
];

const LEVEL = /^[^\s.*>+#]+$/;

/** The NATS subject an MQTT topic or filter maps to; throws SHELF_ERR_TOPIC naming the filter. */
export function mqttToNats(filter: string): string {
  const levels = filter.split('/');
  const out = levels.map((level, i) => {
    if (level === '+') return '*';
    if (level === '#') {
      if (i !== levels.length - 1) throw bad(filter, '# must be the last level');
      return '>';
    }
    if (!LEVEL.test(level)) throw bad(filter, `level "${level}" has no NATS subject form`);
    return level;
  });
  return out.join('.');
}

/**
 * The subjects a filter covers on NATS. nats-server subscribes an MQTT `a/#` to both `a.>` and
 * `a` (MQTT's `#` also matches its parent level), so a grant of `a/#` must allow both.
 */
export function natsSubjectsOf(filter: string): string[] {
  const subject = mqttToNats(filter);
  return subject.endsWith('.>') ? [subject.slice(0, -2), subject] : [subject];
}

function bad(filter: string, why: string): ShelfError {
  return new ShelfError(ErrorCodes.TOPIC, `topic filter "${filter}": ${why}`, [
    { path: 'filter', message: why },
  ]);
}
