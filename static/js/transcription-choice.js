// The host's choices beside the captions: whose transcript a live meeting gets (ours, Zoom's,
// or both) and whether its audio is recorded, saved at once (the stream switches within a
// second or two, it may reconnect; the page follows on reload); and which track the notes are
// built from (a select with a URL of its own, live or finished: the server says what follows);
// and, for the host of a live meeting, whether its screen share is kept as slides.

const form = document.querySelector('[data-role="transcription-choice"]');
const selects = form ? [...form.querySelectorAll("select")] : [];
const RECORDING = { "": null, on: true, off: false };
const status = form?.querySelector('[data-role="transcription-status"]');

function said(body) {
  if (body.message) return body.message;
  if ("slides" in body) return `Slides ${body.effective ? "on" : "off"}: the stream follows within seconds.`;
  return `Now: ${body.effective}, recording ${body.recording ? "on" : "off"}. Reload to see the tracks it brings.`;
}

async function save(event) {
  const select = event.target;
  const onOff = select.name === "record_audio" || select.name === "slides";
  const value = onOff ? RECORDING[select.value] : select.value;
  const token = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
  status.textContent = "Saving…";
  select.disabled = true;
  try {
    const response = await fetch(select.dataset.url ?? form.dataset.url, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ [select.name]: value }),
    });
    const body = await response.json();
    status.textContent = response.ok ? said(body) : body.error ?? "Not saved.";
  } catch {
    status.textContent = "Not saved: the server did not answer.";
  } finally {
    select.disabled = false;
  }
}

for (const select of selects) select.addEventListener("change", save);
