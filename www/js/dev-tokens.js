// One-click sign-in with the demo tokens `make dev` writes to /dev-tokens.json (absent in
// deployments, where this does nothing).

import { $, h } from './dom.js';

export async function offerDevTokens(onChoose) {
  let doc;
  try {
    const res = await fetch('dev-tokens.json', { cache: 'no-store' });
    if (!res.ok) return;
    doc = await res.json();
  } catch {
    return;
  }
  const tokens = Array.isArray(doc?.tokens)
    ? doc.tokens.filter((t) => typeof t?.token === 'string' && t.token && typeof t?.label === 'string')
    : [];
  if (!tokens.length) return;
  $('dev-token-list').replaceChildren(...tokens.map((t) => h('li', {},
    h('button', { type: 'button', class: 'secondary', onclick: () => onChoose(t.token) }, `Sign in as ${t.label}`))));
  $('dev-tokens').hidden = false;
}
