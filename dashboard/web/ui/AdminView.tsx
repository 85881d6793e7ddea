/**
 * Catalogue & users: sites, shelves and their planogram, SKUs, suppliers, policies, users, the
 * audit trail and the shelves waiting to be onboarded, one tab each. Which tabs a role sees and
 * what it may change follows the server's rules (docs/catalogue.md); the server enforces them.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { AuditPanel } from './admin/AuditPanel.js';
import { PoliciesPanel } from './admin/PoliciesPanel.js';
import { SitesPanel } from './admin/SitesPanel.js';
import { SkusPanel } from './admin/SkusPanel.js';
import { SuppliersPanel } from './admin/SuppliersPanel.js';
import { UsersPanel } from './admin/UsersPanel.js';
import { useApp } from './hooks.js';
import { UnassignedShelves } from './UnassignedShelves.js';

interface Tab {
  id: string;
  title: string;
  roles: readonly string[];
  Panel: () => JSX.Element;
}

const TABS: readonly Tab[] = [
  { id: 'sites', title: 'Sites & shelves', roles: ['admin', 'operator', 'technician'], Panel: SitesPanel },
  { id: 'onboarding', title: 'Unassigned shelves', roles: ['admin', 'technician'], Panel: UnassignedShelves },
  { id: 'skus', title: 'SKUs', roles: ['admin', 'operator'], Panel: SkusPanel },
  { id: 'suppliers', title: 'Suppliers', roles: ['admin', 'supplier'], Panel: SuppliersPanel },
  { id: 'policies', title: 'Policies', roles: ['admin', 'operator'], Panel: PoliciesPanel },
  { id: 'users', title: 'Users', roles: ['admin'], Panel: UsersPanel },
  { id: 'audit', title: 'Audit trail', roles: ['admin', 'operator'], Panel: AuditPanel },
];

export function tabsFor(role: string): readonly Tab[] {
  return TABS.filter((t) => t.roles.includes(role));
}

export function AdminView() {
  const { user } = useApp();
  const tabs = tabsFor(user.role);
  const [active, setActive] = useState(tabs[0]?.id ?? '');
  const tab = tabs.find((t) => t.id === active) ?? tabs[0];
  if (!tab) return <p>Your role has nothing to manage here.</p>;
  return (
    <div class="view admin">
      <div class="tabs" role="tablist" aria-label="What to manage">
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={t.id === tab.id}
            aria-controls={`panel-${t.id}`}
            class={t.id === tab.id ? 'tab active' : 'tab'}
            onClick={() => setActive(t.id)}
          >
            {t.title}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab.id}`} aria-labelledby={`tab-${tab.id}`}>
        <tab.Panel />
      </div>
    </div>
  );
}
