// The demo's panel preview: ask the Home URL with the context the server made, as the Zoom
// client does, then show where it leads (the panel, now bound to this browser's session).
async function open() {
  const root = document.getElementById("demo-panel");
  if (!root) return;
  const status = root.querySelector('[data-role="demo-status"]');
  try {
    const response = await fetch(root.dataset.homeUrl, {
      credentials: "same-origin",
      headers: { "X-Zoom-App-Context": root.dataset.context },
    });
    if (response.ok && response.redirected) {
      window.location.assign(response.url);
      return;
    }
    status.textContent = `The panel refused the context (HTTP ${response.status}).`;
  } catch {
    status.textContent = "The server did not answer.";
  }
}

open();
