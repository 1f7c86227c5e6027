// Display helpers shared by the live page; they mirror assistant/views/presenters.py so that
// captions rendered by the server and by the browser read the same.

// A stream-clock value beyond one day is a wall-clock timestamp, not an offset from the start.
export const WALL_CLOCK_MS = 86_400_000;
const SPEAKER_COLOURS = 8;

/** The value a meeting's caption clock counts from, given its first segment's start. */
export function clockOrigin(firstStartMs) {
  return Number.isFinite(firstStartMs) && firstStartMs >= WALL_CLOCK_MS ? firstStartMs : 0;
}

/** "mm:ss" (or "h:mm:ss") since the start of the meeting; "" when it cannot be told. */
export function clockLabel(ms, origin) {
  if (!Number.isFinite(ms)) return "";
  const offset = ms - origin;
  if (offset < 0 || offset >= WALL_CLOCK_MS) return "";
  const total = Math.floor(offset / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

/** What is known of a gap: "03:12 to 03:14, 120 frames lost"; "" when nothing is. */
export function gapLabel(fromMs, toMs, framesLost, origin) {
  const start = clockLabel(fromMs, origin);
  const end = clockLabel(toMs, origin);
  const parts = [];
  if (start && end) parts.push(start === end ? `at ${start}` : `${start} to ${end}`);
  else if (start) parts.push(`from ${start}`);
  else if (end) parts.push(`until ${end}`);
  if (Number.isFinite(framesLost)) {
    parts.push(`${framesLost} frame${framesLost === 1 ? "" : "s"} lost`);
  }
  return parts.join(", ");
}

/** Colour class of the meeting's index-th speaker (in order of first appearance). */
export function speakerClass(index) {
  return `spk-${index % SPEAKER_COLOURS}`;
}

/** "just now", "12 s ago", "3 min ago". */
export function agoLabel(ms) {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 2) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/**
 * "19:22": a moment's wall-clock time, 24-hour as the server's templates write it ("H:i"),
 * in the site's time zone (TIME_ZONE, which the page passes) so both read the same.
 */
export function wallClock(iso, timeZone) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || undefined }).format(at);
  } catch {
    // A zone this browser does not know: its own zone, still 24-hour.
    return new Intl.DateTimeFormat("en-GB", options).format(at);
  }
}
