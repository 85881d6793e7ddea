/** The Skus tab of the admin view. */
export function SkusPanel() {
  return <section class="panel" aria-label="Skus" />;
}
