/** The Users tab of the admin view. */
export function UsersPanel() {
  return <section class="panel" aria-label="Users" />;
}
