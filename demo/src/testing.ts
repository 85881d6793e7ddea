/**
 * The demo's fixed world (site, shelves, SKUs, users, pack size) and the types of its supplier and
 * delivery steps, for tests that check what the demo does. Tests only: nothing in any package's
 * src imports this entry.
 */
export type { DeliveryDone } from './demo-delivery.js';
export {
  DEMO_PACK_SIZE,
  DEMO_SHELVES,
  DEMO_SITE,
  DEMO_SKUS,
  DEMO_USERS,
  demoCentralConfig,
  demoSimLane,
} from './demo-setup.js';
export type { SupplierAct } from './demo-supplier.js';
