/**
 * Which views each role has and which path shows which view. The server enforces what each role
 * may see; this only decides which screens to offer.
 */

export const VIEWS = ['supplier', 'operator', 'technician', 'admin'] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_INFO: Readonly<Record<View, { path: string; title: string }>> = {
  supplier: { path: '/supplier', title: 'Fill levels & orders' },
  operator: { path: '/operator', title: 'Store operations' },
  technician: { path: '/technician', title: 'Sensors & calibration' },
  admin: { path: '/admin', title: 'Catalogue & users' },
};

const ROLE_VIEWS: Readonly<Record<string, readonly View[]>> = {
  // Every person's role has the admin view; what it shows and allows depends on the role.
  supplier: ['supplier', 'admin'],
  operator: ['operator', 'admin'],
  technician: ['technician', 'admin'],
  admin: ['supplier', 'operator', 'technician', 'admin'],
  service: ['supplier', 'operator', 'technician'],
};

export function viewsFor(role: string): readonly View[] {
  return ROLE_VIEWS[role] ?? [];
}

/** The view a path asks for, if the role has it; otherwise the role's first view (or null). */
export function resolveView(role: string, pathname: string): View | null {
  const views = viewsFor(role);
  const asked = VIEWS.find(
    (v) => pathname === VIEW_INFO[v].path || pathname.startsWith(`${VIEW_INFO[v].path}/`),
  );
  if (asked && views.includes(asked)) return asked;
  return views[0] ?? null;
}
