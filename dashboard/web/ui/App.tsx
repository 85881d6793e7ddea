/**
 * The shell: login or the logged-in app with its header (views for the role, live connection
 * state, user, log out), client-side routes, the token refresh timer and the live connection's
 * lifetime (opened at login, closed at logout).
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, refreshDelay } from '../lib/api.js';
import { hasPurchaseOrders, isPurchaseOrdersPath, PO_VIEW } from '../lib/purchase-orders.js';
import { resolveView, VIEW_INFO, type View, viewsFor } from '../lib/routes.js';
import { AdminView } from './AdminView.js';
import { AppContext, type AppContextValue } from './hooks.js';
import { OperatorView, SupplierView } from './LaneViews.js';
import { Login } from './Login.js';
import { LIVE_STATE_TEXT, LiveClient, type LiveState, liveUrl } from './live-client.js';
import { NotificationsPanel } from './NotificationsPanel.js';
import { PurchaseOrdersView } from './PurchaseOrdersPanel.js';
import { ResetPassword } from './ResetPassword.js';
import { clearSession, loadSession, type Session, saveSession } from './session.js';
import { TechnicianView } from './TechnicianView.js';

function usePath(): [string, (path: string) => void] {
  const [path, setPath] = useState(() => window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = (p: string) => {
    if (p !== window.location.pathname) window.history.pushState(null, '', p);
    setPath(p);
  };
  return [path, go];
}

const VIEW_COMPONENTS: Readonly<Record<View, () => JSX.Element>> = {
  supplier: SupplierView,
  operator: OperatorView,
  technician: TechnicianView,
  admin: AdminView,
};

interface LoggedInProps {
  session: Session;
  onLogout(): void;
  onExpired(): void;
  /** A refreshed token: stored, and the next refresh is scheduled from its expiry. */
  onRefreshed(session: Session): void;
}

function LoggedIn({ session, onLogout, onExpired, onRefreshed }: LoggedInProps) {
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const [path, go] = usePath();
  const [liveState, setLiveState] = useState<LiveState>('connecting');
  const [notifications, setNotifications] = useState(false);

  const ctx = useMemo<AppContextValue>(() => {
    const api = new Api({ token: () => sessionRef.current.token, onUnauthorized: onExpired });
    const live = new LiveClient({
      url: liveUrl(window.location),
      username: session.user.name,
      token: () => sessionRef.current.token,
    });
    return { api, live, user: session.user };
  }, [session.user.name]);

  useEffect(() => {
    const off = ctx.live.onState((s) => setLiveState(s));
    ctx.live.start();
    return () => {
      off();
      ctx.live.stop();
    };
  }, [ctx]);

  // Refresh the token before it expires; the new one is used by the API and the next MQTT connect.
  useEffect(() => {
    const t = setTimeout(() => {
      ctx.api.refresh().then(
        (fresh) => {
          sessionRef.current = fresh;
          onRefreshed(fresh);
        },
        () => onExpired(),
      );
    }, refreshDelay(session.expiresAt));
    return () => clearTimeout(t);
  }, [ctx, session.expiresAt]);

  const views = viewsFor(session.user.role);
  const view = resolveView(session.user.role, path);
  // Purchase orders are a page of their own beside the role's views.
  const poNav = hasPurchaseOrders(session.user.role);
  const poOpen = poNav && isPurchaseOrdersPath(path);
  useEffect(() => {
    if (!poOpen && view && path !== VIEW_INFO[view].path)
      window.history.replaceState(null, '', VIEW_INFO[view].path);
  }, [view, path, poOpen]);
  const Current = poOpen ? PurchaseOrdersView : view ? VIEW_COMPONENTS[view] : null;
  const title = poOpen ? PO_VIEW.title : view ? VIEW_INFO[view].title : 'Shelfsense';

  return (
    <AppContext.Provider value={ctx}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="brand">Shelfsense</div>
        {views.length > 1 && (
          <nav aria-label="Views">
            {views.map((v) => (
              <a
                key={v}
                href={VIEW_INFO[v].path}
                aria-current={v === view && !poOpen ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  go(VIEW_INFO[v].path);
                }}
              >
                {VIEW_INFO[v].title}
              </a>
            ))}
            {poNav && (
              <a
                href={PO_VIEW.path}
                aria-current={poOpen ? 'page' : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  go(PO_VIEW.path);
                }}
              >
                {PO_VIEW.title}
              </a>
            )}
          </nav>
        )}
        <div class="top-right">
          <span class={`live live-${liveState}`} role="status">
            <span class="badge-dot" aria-hidden="true" />
            {LIVE_STATE_TEXT[liveState]}
          </span>
          <span class="who">
            {session.user.name} <span class="muted">({session.user.role})</span>
          </span>
          <button
            type="button"
            class="secondary"
            aria-expanded={notifications}
            onClick={() => setNotifications(!notifications)}
          >
            Notifications
          </button>
          <button type="button" class="secondary" onClick={onLogout}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">
        <h1 class="page-title">{title}</h1>
        {notifications && <NotificationsPanel onClose={() => setNotifications(false)} />}
        {Current ? <Current /> : <p>Your role ({session.user.role}) has no dashboard views.</p>}
      </main>
    </AppContext.Provider>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  // A one-time password link opens /reset (logged out only).
  const [resetting, setResetting] = useState(() => window.location.pathname === '/reset');

  const login = (s: Session) => {
    saveSession(s);
    setNotice(null);
    setSession(s);
  };
  const logout = (why: string | null) => {
    clearSession();
    setNotice(why);
    setSession(null);
  };

  if (!session && resetting) {
    return (
      <ResetPassword
        onDone={(done) => {
          window.history.replaceState(null, '', '/');
          setNotice(done);
          setResetting(false);
        }}
      />
    );
  }
  if (!session) return <Login onLogin={login} notice={notice} />;
  return (
    <LoggedIn
      key={session.user.name}
      session={session}
      onLogout={() => logout('You are logged out.')}
      onExpired={() => logout('Your session has expired; please log in again.')}
      onRefreshed={(fresh) => {
        saveSession(fresh);
        setSession(fresh);
      }}
    />
  );
}
