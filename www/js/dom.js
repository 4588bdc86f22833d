// Tiny DOM helpers: element creation without innerHTML, so no value is ever parsed as markup.

export const $ = (id) => document.getElementById(id);

/** h('td', { class: 'x', style: { color: 'red' } }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    // Styles through CSSOM: the Content-Security-Policy forbids inline style attributes.
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Fills a <dl> with [term, description] pairs. */
export function fillFacts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([term, desc]) => [h('dt', {}, term), h('dd', {}, desc)]));
}

/** Disables a button while `work` runs, marking it busy for assistive tech. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try { return await work(); } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
