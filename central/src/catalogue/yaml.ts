/**
 * The catalogue as YAML, laid out the way people write central.yaml: a lane, a SKU or a webhook on
 * one line (`{ id: L0, channels: [0], sku: cola-330, capacity: 24 }`), so a file of thousands of
 * lanes stays readable and a one-field change is a one-line diff in git.
 */
import type { Catalogue } from '@shelfsense/protocol';
import { Document, isScalar, isSeq, visit } from 'yaml';

/** A map of at most this many plain fields goes on one line. */
const FLOW_FIELDS = 6;

export function catalogueYaml(catalogue: Catalogue): string {
  const doc = new Document(catalogue);
  visit(doc, {
    Seq(_, node) {
      if (node.items.every((i) => isScalar(i))) node.flow = true;
    },
    Map(_, node) {
      const plain = node.items.every(
        (p) => isScalar(p.value) || (isSeq(p.value) && p.value.items.every(isScalar)),
      );
      if (plain && node.items.length <= FLOW_FIELDS) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0 });
}
