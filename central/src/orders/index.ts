export {
  type OpenOptions,
  OpenOrderInput,
  type OpenResult,
  type Order,
  OrderReason,
  OrderService,
  type OrderServiceOptions,
  TransitionInput,
  type TransitionResult,
} from './orders.js';
export { orderQuantity, type QuantityPolicy } from './quantity.js';
export {
  cancelMovedStep,
  confirmedDelivery,
  isMovePair,
  matchesDelivery,
  type ReceiptSettings,
  receiptTolerance,
  type Step,
} from './receipt.js';
export { type CycleTimes, isUrgent, nextCycle } from './schedule.js';
export {
  assertTransition,
  canTransition,
  FINAL_STATES,
  isFinal,
  LIVE_STATES,
  TRANSITIONS,
} from './transitions.js';
