/** The Policies tab of the admin view. */
export function PoliciesPanel() {
  return <section class="panel" aria-label="Policies" />;
}
