// kruispunt's portal: the frame (js/ui.js) and its parts, each adding its
// pages to the router; then the language, the session and the first page.
import { loadLanguage, pickLanguage, refreshSession, route } from './js/ui.js';
import './js/citizen.js';
import './js/activate.js';
import './js/officer.js';
import './js/org.js';
import './js/oidc.js';

async function start() {
  await loadLanguage(pickLanguage());
  await refreshSession();
  // The skip link's #main would be a route: move focus to the page instead.
  document.getElementById('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    document.getElementById('page-heading')?.focus();
  });
  window.addEventListener('hashchange', route);
  await route();
}

start();
