export {
  type DailyDemand,
  type DailyDemandOptions,
  type DayDemand,
  dailyDemand,
  type ForecastInput,
  type ForecastResult,
  forecast,
  type LevelReading,
} from './forecast.js';
export {
  inverseNormalCdf,
  type LeadTime,
  type LeadTimeOptions,
  type LeadTimePrior,
  type LeadTimeSample,
  learnLeadTime,
  reorderPoint,
  type SafetyStockInput,
  safetyStock,
} from './lead-time.js';
export {
  type OpenOptions,
  OpenOrderInput,
  type OpenResult,
  type Order,
  type OrderGatherer,
  OrderReason,
  OrderService,
  type OrderServiceOptions,
  TransitionInput,
  type TransitionResult,
} from './orders.js';
export {
  type ManualLine,
  PO_TRANSITIONS,
  type PurchaseOrder,
  PurchaseOrderService,
  type PurchaseOrderServiceOptions,
  purchaseOrderEvent,
  purchaseOrderView,
  type ShipLine,
  shareOut,
} from './purchase-orders.js';
export { orderQuantity, type QuantityPolicy } from './quantity.js';
export {
  cancelMovedStep,
  confirmedDelivery,
  isMovePair,
  matchesDelivery,
  type ReceiptSettings,
  receiptTolerance,
  type Step,
  settledDelivery,
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
