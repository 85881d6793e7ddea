export type { ReplenishmentConfig, WebhooksConfig } from './config.js';
export { type LaneStatus, type RuleOutcome, RulesEngine, type RulesEngineOptions } from './engine.js';
export {
  type AssessContext,
  applyEvent,
  applyLevel,
  assess,
  type Condition,
  condition,
  type Decision,
  type LiveOrderView,
  usable,
} from './evaluate.js';
export { closedAt, closedAtFor, localTime } from './hours.js';
export { initialLaneState, type LaneRuleState, LaneRuleStateSchema } from './lane-state.js';
export { type LaneInfo, laneKey, lanesFromCentral, shelfKey } from './lanes.js';
export { type LanePolicy, type LearnedLeadTime, reorderPointFor, resolvePolicy } from './policy.js';
export {
  addDemand,
  addPick,
  DAY_MS,
  type DemandDays,
  demandStdPerDay,
  emptyRate,
  type Forecast,
  forecast,
  observe,
  type RateState,
  ratePerMs,
} from './rate.js';
