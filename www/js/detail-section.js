// A detail section opened from a button: focus moves into it, and back to that button when
// it closes (its Close button or Escape).

import { $ } from './dom.js';

export function detailSection(sectionId, closeId) {
  let opener = null;
  const section = $(sectionId);

  function close() {
    section.hidden = true;
    if (opener?.isConnected) opener.focus();
    opener = null;
  }

  $(closeId).addEventListener('click', close);
  section.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  return {
    /** Shows the section and focuses it; `from` gets the focus back on close. */
    open(from) {
      opener = from;
      section.hidden = false;
      section.focus();
    },
    /** Hides it without moving focus (its panel is being reset or reloaded). */
    forget() {
      section.hidden = true;
      opener = null;
    },
  };
}
