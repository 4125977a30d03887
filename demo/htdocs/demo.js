// The demo's pages ask httpd who is logged in to each app: a small JSON
// endpoint per app (demo/session.cgi, behind AuthType OAuth in
// conf/demo.conf). fetch() is not a navigation, so without a login the
// module answers 401 instead of sending the browser to the provider: the
// page can show "not logged in" and stay where it is.
'use strict';

// "59 minutes", "1 hour 5 minutes", "3 days": how long until the token
// expires, as a person says it (rounded down: never promises more).
function oacDuration(seconds) {
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return minutes % 60 ? `${plural(hours, 'hour')} ${plural(minutes % 60, 'minute')}` : plural(hours, 'hour');
  }
  return plural(Math.floor(hours / 24), 'day');
}

// "expires in 59 minutes (14:05 UTC)"; the date too when it is not today.
// expiresAt and now are Unix seconds.
function oacExpiryText(expiresAt, now = Date.now() / 1000) {
  const at = new Date(expiresAt * 1000).toISOString();
  const today = new Date(now * 1000).toISOString().slice(0, 10);
  const clock = `${at.slice(0, 10) === today ? '' : `${at.slice(0, 10)} `}${at.slice(11, 16)} UTC`;
  const left = expiresAt - now;
  return left > 0 ? `expires in ${oacDuration(left)} (${clock})` : `expired at ${clock}`;
}

// { user, app, expires_at } for the user logged in to the app whose
// endpoint is url; null when nobody is; throws when httpd cannot tell.
async function oacSession(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

// The sentence a page shows for an app's session (null: logged out).
function oacStateText(app, session) {
  if (!session) return 'Not logged in.';
  const expiry = session.expires_at
    ? `token ${oacExpiryText(session.expires_at)}`
    : 'the token does not expire';
  return `Logged in to ${app} as ${session.user}, ${expiry}.`;
}
