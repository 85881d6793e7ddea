/**
 * The two lane-centred screens. Supplier: every lane holding its SKUs at any customer site, live;
 * its orders with acknowledge and ship; CSV export. Operator: its sites' lanes, open alerts with
 * acknowledge, and the orders in flight (which it may cancel until they ship). What each may see
 * is decided by the server.
 */
import { AlertsPanel } from './AlertsPanel.js';
import { ExportPanel } from './ExportPanel.js';
import { useLanes } from './hooks.js';
import { LaneList } from './LaneList.js';
import { OrdersPanel } from './OrdersPanel.js';

const SUPPLIER_ORDER_STATES = ['open', 'acknowledged', 'shipped', 'received'] as const;
const IN_FLIGHT = ['open', 'acknowledged', 'shipped'] as const;

export function SupplierView() {
  const lanes = useLanes();
  return (
    <div class="view">
      <LaneList lanes={lanes.data} loading={lanes.loading} error={lanes.error} heading="Your lanes" />
      <div class="side">
        <OrdersPanel
          heading="Orders"
          states={SUPPLIER_ORDER_STATES}
          lanes={lanes.data}
          onChanged={lanes.reload}
        />
        <ExportPanel lanes={lanes.data} />
      </div>
    </div>
  );
}

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
