/**
 * Orders: state, quantity, when, the supplier webhook's delivery status, and the transitions the
 * role may take (acknowledge, ship with a quantity, cancel). A shipment or a receipt that differs
 * from the quantity ordered says so in words (short / over). The list reloads itself when an order
 * message arrives, and after each action.
 */

import type { ApiOrder } from '@shelfsense/protocol';
import { useState } from 'preact/hooks';
import { formatAgo, formatDateTime, formatUnits, laneName } from '../lib/format.js';
import type { Lane } from '../lib/lane.js';
import { deliveryLabel, orderActions, orderStateLabel } from '../lib/status.js';
import { useAction, useApp, useNow, useResource } from './hooks.js';

export interface OrdersPanelProps {
  heading: string;
  states: readonly string[];
  lanes: readonly Lane[] | null;
  /** Called after a transition so the lane list shows the new order state at once. */
  onChanged?(): void;
}

const BUTTON_TEXT = { acknowledge: 'Acknowledge', ship: 'Ship', cancel: 'Cancel order' } as const;

function skuName(order: ApiOrder, lanes: readonly Lane[] | null): string {
  const lane = lanes?.find((l) => l.site === order.site && l.shelf === order.shelf && l.lane === order.lane);
  return lane?.skuName ?? order.sku;
}

/**
 * How the goods compare with the order, in words: a shipment the supplier sent short or over, and
 * once the shelf has weighed the delivery, what it counted against what was ordered (and shipped).
 * Null while nothing has shipped.
 */
export function deliveryNote(order: ApiOrder): string | null {
  const diff = (n: number, of: string) =>
    n < order.quantity ? `${order.quantity - n} short of ${of}` : `${n - order.quantity} over ${of}`;
  const received = order.receivedQuantity;
  const shipped = order.shippedQuantity;
  if (received !== null) {
    const vsOrder =
      received === order.quantity
        ? `Complete: ${formatUnits(received)} as ordered`
        : `${received < order.quantity ? 'Short' : 'Over'} delivery: ${formatUnits(received)} received, ${diff(received, 'the order')}`;
    // The shelf's count can differ from the shipping note (an item lost, or a pick meanwhile).
    return shipped !== null && shipped !== received
      ? `${vsOrder} (${formatUnits(shipped)} shipped)`
      : vsOrder;
  }
  if (shipped !== null && shipped !== order.quantity) {
    return `${shipped < order.quantity ? 'Short' : 'Over'} shipment: ${diff(shipped, 'the order')}`;
  }
  return null;
}

function OrderItem({ order, name, onChanged }: { order: ApiOrder; name: string; onChanged(): void }) {
  const { api, user } = useApp();
  const now = useNow(30_000);
  const action = useAction();
  const [qty, setQty] = useState(String(order.quantity));
  const actions = orderActions(user.role, order.state);
  const qtyId = `ship-qty-${order.id}`;
  const label = `Order ${order.id}: ${name} at ${laneName(order)}`;
  const note = deliveryNote(order);

  const act = async (name: 'acknowledge' | 'ship' | 'cancel') => {
    const ok = await action.run(name, () => {
      if (name === 'acknowledge') return api.acknowledgeOrder(order.id);
      if (name === 'cancel') return api.cancelOrder(order.id);
      const n = Number(qty);
      if (!Number.isInteger(n) || n < 1)
        return Promise.reject(new Error('Quantity shipped: enter a whole number above 0'));
      return api.shipOrder(order.id, n);
    });
    if (ok) onChanged();
  };

  return (
    <li class={`order-card order-${order.state}`} aria-label={label}>
      <div class="lane-head">
        <div class="lane-title">
          <h3>{name}</h3>
          <p class="lane-where">
            {laneName(order)} · order {order.id}
          </p>
        </div>
        <span class={`badge order-badge order-${order.state}`}>
          <span class="visually-hidden">Order state: </span>
          {orderStateLabel(order.state)}
        </span>
      </div>
      <dl class="facts">
        <div>
          <dt>Quantity</dt>
          <dd>{formatUnits(order.quantity)}</dd>
        </div>
        {order.shippedQuantity !== null && (
          <div>
            <dt>Shipped</dt>
            <dd>{formatUnits(order.shippedQuantity)}</dd>
          </div>
        )}
        {order.receivedQuantity !== null && (
          <div>
            <dt>Received</dt>
            <dd>{formatUnits(order.receivedQuantity)}</dd>
          </div>
        )}
        <div>
          <dt>Raised</dt>
          <dd title={formatDateTime(order.createdAt)}>{formatAgo(order.createdAt, now)}</dd>
        </div>
        <div>
          <dt>Supplier</dt>
          <dd>{order.supplier}</dd>
        </div>
        {note !== null && (
          <div class="wide">
            <dt>Delivery</dt>
            <dd>{note}</dd>
          </div>
        )}
        <div class="wide">
          <dt>Notification</dt>
          <dd>{deliveryLabel(order.delivery)}</dd>
        </div>
      </dl>
      {actions.length > 0 && (
        <div class="actions">
          {actions.includes('ship') && (
            <div class="field inline">
              <label for={qtyId}>Quantity shipped</label>
              <input
                id={qtyId}
                type="number"
                inputMode="numeric"
                min={1}
                step={1}
                value={qty}
                onInput={(e) => setQty(e.currentTarget.value)}
              />
            </div>
          )}
          {actions.map((a) => (
            <button
              key={a}
              type="button"
              class={a === 'cancel' ? 'secondary' : 'primary'}
              disabled={action.busy !== null}
              aria-busy={action.busy === a}
              onClick={() => act(a)}
            >
              {BUTTON_TEXT[a]}
            </button>
          ))}
        </div>
      )}
      {action.error && (
        <p class="error" role="alert">
          {action.error}
        </p>
      )}
    </li>
  );
}

export function OrdersPanel({ heading, states, lanes, onChanged }: OrdersPanelProps) {
  const { api } = useApp();
  const orders = useResource(() => api.orders(states), [api, states.join(',')], ['order']);
  const changed = () => {
    orders.reload();
    onChanged?.();
  };
  return (
    <section class="panel" aria-labelledby="orders-heading">
      <div class="panel-head">
        <h2 id="orders-heading">{heading}</h2>
      </div>
      {orders.error && (
        <p class="error" role="alert">
          Orders could not be loaded: {orders.error}
        </p>
      )}
      {orders.loading && !orders.data && <p>Loading orders…</p>}
      {orders.data && orders.data.length === 0 && <p>No orders.</p>}
      <ul class="card-list" aria-label={heading}>
        {orders.data?.map((o) => (
          <OrderItem key={o.id} order={o} name={skuName(o, lanes)} onChanged={changed} />
        ))}
      </ul>
    </section>
  );
}
