// Baton's pages work without this file; it only smooths two things htmx leaves to the page.
(() => {
  // A polled fragment replaces the task list every second: keep the tasks someone opened open.
  const open = new Set();
  document.addEventListener('htmx:beforeSwap', (event) => {
    const target = event.detail.target;
    if (!target) return;
    open.clear();
    for (const el of target.querySelectorAll('details[open][id]')) open.add(el.id);
  });
  document.addEventListener('htmx:afterSettle', () => {
    for (const id of open) {
      const el = document.getElementById(id);
      if (el && el.tagName === 'DETAILS') el.open = true;
    }
  });

  // Closing a task someone opened during a poll should stick too.
  document.addEventListener(
    'toggle',
    (event) => {
      const el = event.target;
      if (el instanceof HTMLDetailsElement && el.id && !el.open) open.delete(el.id);
    },
    true,
  );

  // A link to a task (#task-<id>, from the graph or the timeline) opens its details.
  const openTarget = () => {
    const el =
      location.hash.length > 1 ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
    if (el && el.tagName === 'DETAILS') el.open = true;
  };
  window.addEventListener('hashchange', openTarget);
  document.addEventListener('DOMContentLoaded', openTarget);

  // Copy buttons: data-copy="#selector" copies that field's text.
  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-copy]') : null;
    if (!button) return;
    const field = document.querySelector(button.getAttribute('data-copy'));
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value ?? field.textContent ?? '');
    } catch {
      // No clipboard API (plain http on another host): select the text for Ctrl+C.
      field.focus();
      field.select?.();
      return;
    }
    const note = button.parentElement?.querySelector('[data-copied]');
    if (note) {
      note.hidden = false;
      setTimeout(() => {
        note.hidden = true;
      }, 1500);
    }
  });
})();
