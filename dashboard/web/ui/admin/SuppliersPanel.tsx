/** The Suppliers tab of the admin view. */
export function SuppliersPanel() {
  return <section class="panel" aria-label="Suppliers" />;
}
