// The host's choice of the notes' template, in the Notes pane: saved at once (PUT, CSRF token),
// the server says what follows. Live, the rebuilt notes arrive over the socket like any notes.
// A finished page has no socket: it asks the notes API until the notes are written with the
// chosen template, then reloads (the notes, the exports' content and the deliveries with them).

const POLL_MS = 2000;
const POLL_TRIES = 90;

export function listenForTemplate(pane, form) {
  const select = form.elements.template;
  const status = form.querySelector('[data-role="notes-template-status"]');
  select.addEventListener("change", async () => {
    status.textContent = "Saving…";
    select.disabled = true;
    const before = pane.current?.updated_at ?? null;
    try {
      const response = await fetch(select.dataset.url, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": pane.token },
        body: JSON.stringify({ template: select.value }),
      });
      const body = await response.json();
      status.textContent = response.ok ? body.message : body.error ?? "Not saved.";
      if (response.ok && body.rebuilding && pane.meeting.dataset.live !== "true") {
        waitForRebuild(pane.section.dataset.notesUrl, body.effective.key, before);
      }
    } catch {
      status.textContent = "Not saved: the server did not answer.";
    } finally {
      select.disabled = false;
    }
  });
}

async function waitForRebuild(notesUrl, key, before) {
  for (let tries = 0; tries < POLL_TRIES; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      const response = await fetch(notesUrl, { credentials: "same-origin" });
      const notes = response.ok ? await response.json() : null;
      if (notes && notes.template.key === key && notes.updated_at !== before) {
        window.location.reload();
        return;
      }
    } catch {
      // The server did not answer this time: ask again.
    }
  }
}
