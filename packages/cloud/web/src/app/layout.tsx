import { useEffect, useId, useState, type ReactNode } from 'react';
import { NavLink, useLocation } from 'react-router';
import { signOut } from '../auth/session.ts';
import { useMe } from './me.tsx';

const navigation: { to: string; label: string; end?: boolean }[] = [
  { to: '/', label: 'Home', end: true },
  { to: '/users', label: 'Active users' },
  { to: '/dirsync', label: 'Directory synchronization' },
  { to: '/domains', label: 'Domains' },
  { to: '/licences', label: 'Licences' },
  { to: '/roles', label: 'Roles' },
  { to: '/sign-ins', label: 'Sign-in logs' },
  { to: '/audit', label: 'Audit log' },
];

/**
 * The frame of every page: a skip link, the header (tenant, who is signed in,
 * sign out), the navigation (a disclosure menu on narrow screens) and the main region.
 */
export function Layout({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const navId = useId();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  const who = me.principal.displayName ?? me.principal.userPrincipalName ?? 'Administrator';
  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to main content</a>
      <header className="topbar">
        <button type="button" className="menu-button" aria-expanded={menuOpen} aria-controls={navId} onClick={() => setMenuOpen((o) => !o)}>
          <span aria-hidden="true">☰</span> Menu
        </button>
        <span className="brand">Skybridge admin center</span>
        <span className="tenant" title={me.tenant.initialDomain}>{me.tenant.name}</span>
        <span className="who">
          <span className="visually-hidden">Signed in as </span>{who}
        </span>
        <button type="button" className="button button-quiet" onClick={signOut}>Sign out</button>
      </header>
      <div className="body">
        <nav id={navId} className={`sidenav${menuOpen ? ' open' : ''}`} aria-label="Admin center">
          <ul>
            {navigation.map((n) => (
              <li key={n.to}><NavLink to={n.to} end={n.end ?? false}>{n.label}</NavLink></li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>{children}</main>
      </div>
    </div>
  );
}
