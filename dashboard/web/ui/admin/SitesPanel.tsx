/** The Sites tab of the admin view. */
export function SitesPanel() {
  return <section class="panel" aria-label="Sites" />;
}
