/** The Audit tab of the admin view. */
export function AuditPanel() {
  return <section class="panel" aria-label="Audit" />;
}
