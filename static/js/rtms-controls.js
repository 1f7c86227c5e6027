// The host's stream controls on the meeting page (templates/meetings/rtms_controls.html): the
// buttons are plain forms; this keeps the state shown and which buttons work current from the
// live socket's state events, which live-meeting.js passes on as "meeting:state".

// What a host may do in each phase (the same table is views/rtms_controls.py ENABLED).
const ENABLED = {
  starting: ["stop"],
  live: ["pause", "stop"],
  reconnecting: ["pause", "stop"],
  paused: ["resume", "stop"],
  stopped: ["start"],
};
const LABELS = {
  starting: "Starting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  paused: "Paused",
  stopped: "Stopped",
};

/** The phase a state event puts the stream in, or null when it says nothing new (a gap). */
function phaseOf(event) {
  switch (event.state) {
    case "pending":
    case "connecting":
      return "starting";
    case "reconnecting":
      return "reconnecting";
    case "ended":
    case "failed":
      return "stopped";
    case "live":
      // The ingest reports Zoom's pause and resume as details of the live state.
      return String(event.detail ?? "").endsWith("paused") ? "paused" : "live";
    default:
      return null;
  }
}

function show(root, phase) {
  root.dataset.phase = phase;
  const label = root.querySelector('[data-role="rtms-phase"]');
  if (label) label.textContent = LABELS[phase] ?? phase;
  const allowed = new Set(ENABLED[phase] ?? []);
  for (const button of root.querySelectorAll("[data-rtms-action]")) {
    button.disabled = !allowed.has(button.dataset.rtmsAction);
  }
}

function start() {
  const root = document.querySelector('[data-role="rtms-dashboard-controls"]');
  const meeting = document.getElementById("meeting");
  if (!root || !meeting) return;
  meeting.addEventListener("meeting:state", (event) => {
    const phase = phaseOf(event.detail ?? {});
    if (phase) show(root, phase);
  });
  // A second press while Zoom is asked would only be refused: one request at a time.
  for (const form of root.querySelectorAll("form")) {
    form.addEventListener("submit", () => {
      for (const button of root.querySelectorAll("[data-rtms-action]")) button.disabled = true;
    });
  }
}

start();
