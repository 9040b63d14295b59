import { useEffect, useRef, useState, type FormEvent } from 'react';
import { signIn } from '../auth/session.ts';
import { ErrorNotice } from '../components/feedback.tsx';

/**
 * The admin center's front door: the admin's work address finds their
 * tenant (home-realm discovery); the tenant's own sign-in page does the rest.
 */
export function SignInPage({ error, returnTo }: { error: Error | null; returnTo: string }) {
  const [address, setAddress] = useState('');
  const [problem, setProblem] = useState<Error | null>(error);
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Skybridge admin center';
    heading.current?.focus();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const upn = address.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(upn)) {
      setProblem(new Error('Enter your work address, such as admin@contoso.com.'));
      return;
    }
    setBusy(true);
    setProblem(null);
    const res = await fetch(`/common/v2.0/realm?upn=${encodeURIComponent(upn)}`).catch(() => null);
    if (!res || !res.ok) {
      setBusy(false);
      setProblem(new Error(res?.status === 404
        ? `No organisation signs in here with addresses at ${upn.slice(upn.indexOf('@') + 1)}. Use the address your organisation gave you (or its initial domain, such as admin@yourname.skybridge.test).`
        : 'The cloud could not be reached. Check your connection and try again.'));
      return;
    }
    await signIn(returnTo, upn);
  };
  return (
    <main id="main" className="signin-page">
      <div className="signin-card">
        <p className="brand">Skybridge</p>
        <h1 ref={heading} tabIndex={-1}>Sign in to the admin center</h1>
        <p>Manage your organisation's users, domains, licences and directory synchronization.</p>
        <ErrorNotice error={problem} title="You are not signed in" />
        <form onSubmit={submit} noValidate>
          <label htmlFor="address">Work address</label>
          <input id="address" name="username" type="email" autoComplete="username" required value={address} onChange={(e) => setAddress(e.target.value)} aria-describedby="address-hint" />
          <p id="address-hint" className="hint">You sign in with your organisation's own account; the next page asks for your password.</p>
          <button type="submit" className="button button-primary" disabled={busy}>{busy ? 'Finding your organisation…' : 'Next'}</button>
        </form>
      </div>
    </main>
  );
}
