// The captions pane's transcript switch: our own captions or Zoom's, when a meeting has both.
// Every caption carries data-source; the list's data-track says which ones CSS shows.

const captionsPane = document.querySelector(".pane-captions");
const list = captionsPane?.querySelector('[data-role="captions"]');
const buttons = captionsPane?.querySelectorAll('[data-role="track-switch"] button') ?? [];

for (const button of buttons) {
  button.addEventListener("click", () => {
    list.dataset.track = button.dataset.track;
    for (const other of buttons) {
      other.setAttribute("aria-pressed", String(other === button));
    }
  });
}
