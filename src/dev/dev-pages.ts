/**
 * The two pages emailed links open in development (WEB_APP_URL defaults to this server). A page reads
 * the token in the browser, takes it out of the address bar at once, and completes the action through
 * the API; the server never reads it from the URL (and the request log records no query string).
 */

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem .6rem}input{width:100%;box-sizing:border-box;margin:.5rem 0}
#status{margin-top:1rem}`;

/** Reads `token` from the query or the fragment and removes both from the address bar. */
const READ_TOKEN = `const token = new URLSearchParams(location.search).get('token') || new URLSearchParams(location.hash.slice(1)).get('token');
history.replaceState(null, '', location.pathname);
const status = document.getElementById('status');
async function call(path, body) {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (res.ok) return null;
  const problem = await res.json().catch(() => ({}));
  return problem.detail || problem.title || 'The request failed (' + res.status + ')';
}`;

function page(title: string, body: string, script: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${title} · Bazaar</title><style>${STYLE}</style></head>
<body>
<h1>${title}</h1>
${body}
<p id="status" role="status"></p>
<script>
${READ_TOKEN}
${script}
</script>
</body>
</html>
`;
}

export const verifyEmailPage = page(
  'Confirm your email address',
  '<p>Bazaar development server.</p>',
  `(async () => {
  if (!token) { status.textContent = 'This link has no token: open the link from the email again.'; return; }
  status.textContent = 'Confirming ...';
  const error = await call('/auth/email/verify', { token });
  status.textContent = error ? 'Not confirmed: ' + error : 'Your email address is confirmed. You can close this page.';
})();`,
);

export const resetPasswordPage = page(
  'Choose a new password',
  `<form id="reset">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required>
<button type="submit">Set the new password</button>
</form>`,
  `const form = document.getElementById('reset');
if (!token) { form.hidden = true; status.textContent = 'This link has no token: open the link from the email again.'; }
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  status.textContent = 'Saving ...';
  const error = await call('/auth/password/reset', { token, newPassword: form.password.value });
  if (error) { status.textContent = 'Not changed: ' + error; return; }
  form.hidden = true;
  status.textContent = 'Your password is changed. Sign in with the new one.';
});`,
);
