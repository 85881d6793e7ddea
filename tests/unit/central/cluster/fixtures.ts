/**
 * The two-site catalogue the NATS permission tests share: two suppliers, and at store-1 two shelves
 * of two agents (one shelf holding both suppliers' lanes), one more shelf at store-2.
 */
export const TWO_SITE_CATALOGUE = {
  suppliers: [{ id: 'acme' }, { id: 'globex' }],
  skus: [
    { id: 'cola', unitWeightG: 350, supplier: 'acme' },
    { id: 'chips', unitWeightG: 120, supplier: 'globex' },
  ],
  sites: [
    {
      id: 'store-1',
      shelves: [
        {
          id: 'shelf-a',
          serial: 'SN-A',
          agent: 'pi-1',
          lanes: [
            { id: 'L0', channels: [0], sku: 'cola' },
            { id: 'L1', channels: [1], sku: 'chips' },
          ],
        },
        { id: 'shelf-b', serial: 'SN-B', agent: 'pi-2', lanes: [{ id: 'L0', channels: [0], sku: 'chips' }] },
      ],
    },
    {
      id: 'store-2',
      shelves: [
        { id: 'shelf-c', serial: 'SN-C', agent: 'pi-3', lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] },
      ],
    },
  ],
};
