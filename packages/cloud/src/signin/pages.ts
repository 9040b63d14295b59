/**
 * The hosted sign-in pages: plain HTML that works without JavaScript, with
 * labelled fields, the right autocomplete hints for password managers, an
 * error region screen readers announce, and a layout from phone to desktop.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Skybridge</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }
  main { max-width: 26rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: .5rem; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  @media (max-width: 30rem) { main { margin: 0; border-radius: 0; box-shadow: none; min-height: 100vh; } }
  h1 { font-size: 1.5rem; margin-top: 0; }
  label { display: block; margin-top: 1rem; font-weight: 600; }
  input[type=text], input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; margin-top: .3rem; font-size: 1rem; border: 1px solid #6b7280; border-radius: .25rem; }
  input:focus, button:focus { outline: 3px solid #2563eb; outline-offset: 2px; }
  button { margin-top: 1.5rem; width: 100%; padding: .7rem; font-size: 1rem; font-weight: 600; color: #fff; background: #1d4ed8; border: 0; border-radius: .25rem; cursor: pointer; }
  .error { margin-top: 1rem; padding: .75rem; border-left: 4px solid #b91c1c; background: #fef2f2; color: #7f1d1d; }
  .hint { color: #4b5563; font-size: .9rem; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

const errorBox = (error?: string) => (error ? `<div class="error" role="alert" id="error">${escape(error)}</div>` : '<div role="alert" id="error"></div>');
const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('');

export function signInPage(o: { action: string; csrf: string; appName: string; tenantName: string; username?: string; error?: string }): string {
  return layout('Sign in', `
<h1>Sign in</h1>
<p class="hint">to ${escape(o.appName)} with your ${escape(o.tenantName)} account</p>
${errorBox(o.error)}
<form method="post" action="${escape(o.action)}" novalidate>
${hidden({ csrf: o.csrf })}
<label for="username">Email or user name</label>
<input id="username" name="username" type="email" autocomplete="username" required autofocus value="${escape(o.username ?? '')}"${o.error ? ' aria-describedby="error"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`);
}

export function changePasswordPage(o: { action: string; csrf: string; username: string; error?: string }): string {
  return layout('Change your password', `
<h1>Change your password</h1>
<p class="hint">${escape(o.username)} must choose a new password before going on. Use at least 12 characters; a passphrase of several words is easiest to remember.</p>
${errorBox(o.error)}
<form method="post" action="${escape(o.action)}" novalidate>
${hidden({ csrf: o.csrf })}
<input type="text" name="username" autocomplete="username" value="${escape(o.username)}" hidden>
<label for="current">Current password</label>
<input id="current" name="current" type="password" autocomplete="current-password" required autofocus>
<label for="new">New password</label>
<input id="new" name="new" type="password" autocomplete="new-password" required minlength="12">
<label for="confirm">Confirm the new password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="12">
<button type="submit">Change password and sign in</button>
</form>`);
}

/** /common without a known tenant: the user's address first, the rest of the request carried along. */
export function askAddressPage(query: URLSearchParams, error?: string): string {
  const carried: Record<string, string> = Object.fromEntries([...query.entries()].filter(([k]) => k !== 'login_hint'));
  return layout('Sign in', `
<h1>Sign in</h1>
${errorBox(error)}
<form method="get" action="/common/v2.0/auth">
${hidden(carried)}
<label for="login_hint">Your work email address</label>
<input id="login_hint" name="login_hint" type="email" autocomplete="username" required autofocus>
<button type="submit">Next</button>
</form>`);
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${escape(title)}</h1><p>${escape(message)}</p>`);
}

export function logoutPage(o: { form: string; host: string }): string {
  return layout('Sign out', `
<h1>Sign out</h1>
<p>Sign out of every application you signed in to through ${escape(o.host)}?</p>
${o.form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" style="background:#4b5563">Stay signed in</button>`);
}

export function loggedOutPage(): string {
  return layout('Signed out', '<h1>You signed out</h1><p>You can close this window.</p>');
}
