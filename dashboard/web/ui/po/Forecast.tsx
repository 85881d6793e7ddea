/**
 * Stock and sales per SKU and store, what a supplier plans deliveries with (`GET /api/forecast`):
 * items on the shelves, sales per day, when it runs out, the learned lead time, the reorder point
 * and the next delivery; and the lead times learned per store (`GET /api/purchase-orders/lead-times`).
 * A central without these routes answers 404: the panel then says so instead of failing.
 */
import type { CatalogueView } from '@shelfsense/protocol';
import { formatDateTime, formatUnits } from '../../lib/format.js';
import {
  formatLeadTime,
  formatPerDay,
  loadForecast,
  loadLeadTimes,
  skuName,
  sortForecast,
} from '../../lib/purchase-orders.js';
import { useApp, useResource } from '../hooks.js';

const DAY_MS = 86_400_000;

export function ForecastPanel({ cat }: { cat: CatalogueView | null }) {
  const { api } = useApp();
  // Stock moves with every order event; a burst is gathered into one reload.
  const forecast = useResource(() => loadForecast(api), [api], ['order']);
  const leadTimes = useResource(() => loadLeadTimes(api), [api], ['order']);
  const rows = forecast.data ? sortForecast(forecast.data) : [];
  return (
    <section class="panel" aria-labelledby="forecast-heading">
      <div class="panel-head">
        <h2 id="forecast-heading">Stock and sales forecast</h2>
        <button type="button" class="secondary" aria-busy={forecast.loading} onClick={forecast.reload}>
          Reload
        </button>
      </div>
      {forecast.error && (
        <p class="error" role="alert">
          The forecast could not be loaded: {forecast.error}
        </p>
      )}
      {forecast.loading && forecast.data === null && !forecast.error && <p>Loading the forecast…</p>}
      {!forecast.loading && forecast.data === null && !forecast.error && (
        <p class="muted">This central does not offer forecasts yet.</p>
      )}
      {forecast.data && rows.length === 0 && <p class="muted">No stock to forecast.</p>}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="po-forecast">
            <caption>Per SKU and store, soonest stock-out first</caption>
            <thead>
              <tr>
                <th scope="col">Store</th>
                <th scope="col">SKU</th>
                <th scope="col">Stock</th>
                <th scope="col">Sales</th>
                <th scope="col">Runs out</th>
                <th scope="col">Lead time</th>
                <th scope="col">Reorder point</th>
                <th scope="col">Next delivery</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={`${r.site}/${r.sku}`}>
                  <td>{r.site}</td>
                  <th scope="row">
                    {skuName(cat, r.sku)}{' '}
                    <span class="muted">
                      ({r.lanes} lane{r.lanes === 1 ? '' : 's'})
                    </span>
                  </th>
                  <td>{formatUnits(r.units)}</td>
                  <td>{formatPerDay(r.demandPerDay)}</td>
                  <td>{r.stockOutAt === null ? '—' : formatDateTime(r.stockOutAt)}</td>
                  <td>{r.leadTimeDays === null ? '—' : formatLeadTime(r.leadTimeDays * DAY_MS)}</td>
                  <td>{r.reorderPoint === null ? '—' : Math.ceil(r.reorderPoint)}</td>
                  <td>{r.nextDeliveryAt === null ? '—' : formatDateTime(r.nextDeliveryAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {leadTimes.data && leadTimes.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Lead times learned per store</caption>
            <thead>
              <tr>
                <th scope="col">Store</th>
                <th scope="col">Supplier</th>
                <th scope="col">Mean</th>
                <th scope="col">Spread</th>
                <th scope="col">Schedule</th>
                <th scope="col">Deliveries</th>
              </tr>
            </thead>
            <tbody>
              {leadTimes.data.map((l) => (
                <tr key={`${l.site}/${l.supplier}`}>
                  <td>{l.site}</td>
                  <td>{l.supplier}</td>
                  <td>{formatLeadTime(l.meanMs)}</td>
                  <td>±{formatLeadTime(l.stdMs)}</td>
                  <td>{formatLeadTime(l.nominalMs)}</td>
                  <td>{l.n}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
