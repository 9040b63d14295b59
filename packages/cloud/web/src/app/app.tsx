import { Component, useEffect, useState, type ReactNode } from 'react';
import { BrowserRouter, Route, Routes, useLocation } from 'react-router';
import { api, ApiError, SignedOut } from '../api/client.ts';
import { completeSignIn, currentSession, signOut } from '../auth/session.ts';
import { ErrorNotice, Progress } from '../components/feedback.tsx';
import { Layout } from './layout.tsx';
import { MeContext, type Me } from './me.tsx';
import { SignInPage } from './signed-out.tsx';
import { HomePage } from '../pages/home.tsx';
import { ActiveUsersPage } from '../pages/users/active-users.tsx';
import { UserDetailPage } from '../pages/users/user-detail.tsx';
import { DirectorySyncPage } from '../pages/dirsync/directory-sync.tsx';
import { DomainsPage } from '../pages/domains/domains.tsx';
import { DomainDetailPage } from '../pages/domains/domain-detail.tsx';
import { LicencesPage } from '../pages/licences/licences.tsx';
import { RolesPage } from '../pages/roles/roles.tsx';
import { SignInsPage } from '../pages/logs/sign-ins.tsx';
import { AuditLogPage } from '../pages/logs/audit-log.tsx';
import { NotFoundPage } from '../pages/not-found.tsx';

const basename = '/admin';

/** A lost session anywhere in the tree sends the admin to sign in, back to the page they were on. */
class SessionBoundary extends Component<{ children: ReactNode; onSignedOut: () => void }, { failed: Error | null }> {
  override state: { failed: Error | null } = { failed: null };
  static getDerivedStateFromError(error: Error) {
    return { failed: error };
  }
  override componentDidCatch(error: Error) {
    if (error instanceof SignedOut) this.props.onSignedOut();
  }
  override render() {
    const { failed } = this.state;
    if (failed && !(failed instanceof SignedOut)) {
      return (
        <main id="main" className="signin-page">
          <div className="signin-card">
            <h1>The admin center stopped</h1>
            <ErrorNotice error={failed} title="This page failed" />
            <p>Reload the page to go on; what you saved is kept.</p>
          </div>
        </main>
      );
    }
    return failed ? null : this.props.children;
  }
}

function Pages() {
  return (
    <Routes>
      <Route path="/" element={<HomePage />} />
      <Route path="/users" element={<ActiveUsersPage />} />
      <Route path="/users/:id" element={<UserDetailPage />} />
      <Route path="/dirsync" element={<DirectorySyncPage />} />
      <Route path="/domains" element={<DomainsPage />} />
      <Route path="/domains/:name" element={<DomainDetailPage />} />
      <Route path="/licences" element={<LicencesPage />} />
      <Route path="/roles" element={<RolesPage />} />
      <Route path="/sign-ins" element={<SignInsPage />} />
      <Route path="/audit" element={<AuditLogPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

function SignedIn({ onSignedOut }: { onSignedOut: () => void }) {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    api.get<Me>('/me').then(setMe, (e: unknown) => {
      if (e instanceof SignedOut) onSignedOut();
      else setError(e as Error);
    });
  }, [onSignedOut]);
  if (error) {
    const noRole = error instanceof ApiError && error.code === 'forbidden';
    return (
      <main id="main" className="signin-page">
        <div className="signin-card">
          <h1>{noRole ? 'Your account is not an administrator' : 'The admin center could not start'}</h1>
          <ErrorNotice error={noRole ? new Error('You signed in, but your account holds no admin role in this organisation. Ask a Global Administrator to give you one (Roles), then sign in again.') : error} />
          <button type="button" className="button" onClick={signOut}>Sign out</button>
        </div>
      </main>
    );
  }
  if (!me) return <main id="main" className="signin-page"><Progress label="Opening the admin center…" /></main>;
  return (
    <MeContext.Provider value={me}>
      <SessionBoundary onSignedOut={onSignedOut}>
        <Layout><Pages /></Layout>
      </SessionBoundary>
    </MeContext.Provider>
  );
}

function Gate() {
  const location = useLocation();
  const [state, setState] = useState<'checking' | 'signed-in' | 'signed-out'>('checking');
  const [error, setError] = useState<Error | null>(null);
  const [returnTo, setReturnTo] = useState(() => `${basename}${location.pathname}${location.search}`);
  useEffect(() => {
    completeSignIn(new URL(window.location.href)).then(
      (next) => {
        if (next) {
          // back to the page the admin was on before signing in
          window.history.replaceState(null, '', next.startsWith(`${basename}/`) ? next : `${basename}/`);
          window.dispatchEvent(new PopStateEvent('popstate'));
        }
        setState(currentSession() ? 'signed-in' : 'signed-out');
      },
      (e: unknown) => { setError(e as Error); setState('signed-out'); },
    );
    // once, when the app opens
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const onSignedOut = () => {
    setReturnTo(`${basename}${location.pathname}${location.search}`);
    setState('signed-out');
  };
  if (state === 'checking') return <main id="main" className="signin-page"><Progress label="Signing you in…" /></main>;
  if (state === 'signed-out') return <SignInPage error={error} returnTo={returnTo} />;
  return <SignedIn onSignedOut={onSignedOut} />;
}

export function App() {
  return (
    <BrowserRouter basename={basename}>
      <Gate />
    </BrowserRouter>
  );
}
