/**
 * Which views each role has and which path shows which view. The server enforces what each role
 * may see; this only decides which screens to offer.
 */

export const VIEWS = ['supplier', 'operator', 'technician'] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_INFO: Readonly<Record<View, { path: string; title: string }>> = {
  supplier: { path: '/supplier', title: 'Fill levels & orders' },
  operator: { path: '/operator', title: 'Store operations' },
  technician: { path: '/technician', title: 'Sensors & calibration' },
};

const ROLE_VIEWS: Readonly<Record<string, readonly View[]>> = {
  supplier: ['supplier'],
  operator: ['operator'],
  technician: ['technician'],
  admin: ['supplier', 'operator', 'technician'],
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
