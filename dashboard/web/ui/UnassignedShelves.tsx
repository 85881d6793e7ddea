/** Shelves an agent reports that the catalogue does not know yet, and the onboarding wizard. */
export function UnassignedShelves() {
  return <section class="panel" aria-label="Unassigned shelves" />;
}
