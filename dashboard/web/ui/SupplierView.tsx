/**
 * The supplier's screen: every lane holding its SKUs at any customer site, live; its orders with
 * acknowledge and ship; CSV export. What a supplier may see is decided by the server.
 */
import { ExportPanel } from './ExportPanel.js';
import { useLanes } from './hooks.js';
import { LaneList } from './LaneList.js';
import { OrdersPanel } from './OrdersPanel.js';

const SUPPLIER_ORDER_STATES = ['open', 'acknowledged', 'shipped', 'received'] as const;

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
