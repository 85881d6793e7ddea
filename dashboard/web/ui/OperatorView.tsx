/**
 * The store operator's screen: its sites' lanes, open alerts with acknowledge, and the orders in
 * flight (which it may cancel while they are not yet shipped).
 */
import { AlertsPanel } from './AlertsPanel.js';
import { useLanes } from './hooks.js';
import { LaneList } from './LaneList.js';
import { OrdersPanel } from './OrdersPanel.js';

const IN_FLIGHT = ['open', 'acknowledged', 'shipped'] as const;

export function OperatorView() {
  const lanes = useLanes();
  return (
    <div class="view">
      <LaneList
        lanes={lanes.data}
        loading={lanes.loading}
        error={lanes.error}
        heading="Store lanes"
        showSupplier
      />
      <div class="side">
        <AlertsPanel />
        <OrdersPanel
          heading="Orders in flight"
          states={IN_FLIGHT}
          lanes={lanes.data}
          onChanged={lanes.reload}
        />
      </div>
    </div>
  );
}
