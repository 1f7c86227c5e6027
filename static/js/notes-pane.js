// The Notes pane: summary, key points, decisions, action items, open questions, the template's
// sections, and "Ask this meeting". A host edits the decisions and action items (notes-edit.js)
// and chooses the template (notes-template.js). Everything from the
// meeting (transcript-derived text included) reaches the page through textContent only (dom.js).
// Live meetings: live-meeting.js dispatches each `notes` event as "meeting:notes" on #meeting.

import { h, role } from "./dom.js";
import { clockLabel, wallClock } from "./format.js";
import { momentLink } from "./moments.js";
import { NotesEditor } from "./notes-edit.js";
import { listenForTemplate } from "./notes-template.js";

const STATUS_TEXT = {
  llm_unreachable: "The AI model is unreachable: showing the automatic extract instead.",
  llm_invalid: "The AI model's answer was unusable: showing the automatic extract instead.",
};

class NotesPane {
  constructor(section, meeting) {
    this.section = section;
    this.meeting = meeting;
    this.token = section.querySelector('input[name="csrfmiddlewaretoken"]')?.value ?? "";
    this.editor = section.dataset.canEdit === "true" ? new NotesEditor(this) : null;
    this.seq = 0;
    this.current = null;
    this.localProblem = "";
    for (const name of ["label", "updated", "status", "empty", "content", "summary", "points",
      "points-head", "decisions", "actions", "questions", "questions-head", "sections",
      "sections-block", "template-name"]) {
      this[camel(name)] = role(section, `notes-${name}`);
    }
    this.form = role(section, "ask-form");
    this.answer = role(section, "ask-answer");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask(this.form.elements.question.value);
    });
    this.catchUp = section.querySelector('[data-role="catch-up"]');
    if (this.catchUp) this.listenForCatchUp();
    const add = section.querySelector('[data-role="notes-add-action"]');
    if (add && this.editor) add.addEventListener("click", () => this.editor.addAction(add));
    const template = section.querySelector('[data-role="notes-template"]');
    if (template) listenForTemplate(this, template);
  }

  // A version of the notes (the page's, an event's): kept, and shown unless a form is open.
  show(notes) {
    if (!notes || (notes.seq && notes.seq < this.seq)) return;
    this.seq = notes.seq || this.seq;
    this.current = notes;
    this.refresh();
  }

  // A local change of the current notes (an edit the server accepted), shown at once.
  update(change) {
    if (!this.current) return;
    const notes = structuredClone(this.current);
    change(notes);
    this.current = notes;
    this.refresh();
  }

  refresh() {
    // An open edit form would be lost in a re-render: the editor calls again once it closes.
    if (this.current && !this.editor?.open) this.render(this.current);
  }

  problem(text) {
    this.localProblem = text;
    this.renderStatus();
  }

  renderStatus() {
    const problem = this.localProblem || STATUS_TEXT[this.current?.status];
    this.status.hidden = !problem;
    this.status.textContent = problem ?? "";
  }

  render(notes) {
    const extract = notes.engine === "extractive";
    this.label.hidden = !extract;
    this.label.textContent = notes.final ? "Automatic extract · final" : "Automatic extract";
    this.updated.textContent = notes.final && !extract ? "Final notes" : this.updatedLabel(notes);
    this.renderStatus();
    this.summary.textContent = notes.summary || "Nothing to summarise yet.";
    fill(this.points, notes.key_points, (text) => h("li", { text }));
    this.pointsHead.hidden = this.points.hidden = notes.key_points.length === 0;
    fill(this.decisions, notes.decisions, (d) => this.decision(d), "No decisions yet.");
    fill(this.actions, notes.action_items, (a) => this.actionItem(a), "No action items yet.");
    fill(this.questions, notes.open_questions, (text) => h("li", { text }));
    this.questionsHead.hidden = this.questions.hidden = notes.open_questions.length === 0;
    this.renderSections(notes);
    this.empty.hidden = true;
    this.content.hidden = false;
  }

  // The template's sections (none with the default template): a heading, its lines with a
  // jump to where each was said, and a note ("Needs an AI model: ...", "Not said: ...").
  renderSections(notes) {
    const sections = notes.sections ?? [];
    this.sectionsBlock.hidden = sections.length === 0;
    this.templateName.textContent = notes.template?.name ?? "";
    this.sections.replaceChildren(...sections.map((section) => {
      const parts = [h("h4", { className: "notes-section-heading", text: section.heading })];
      if (section.items.length) {
        parts.push(h("ul", { className: "notes-list" }, section.items.map((item) =>
          h("li", {}, [h("span", { text: item.text }), ...this.jump(item)]))));
      }
      if (section.note) {
        const needsModel = section.note.startsWith("Needs an AI model");
        parts.push(h("p", { className: `section-note${needsModel ? " needs-model" : ""}`, text: section.note }));
      } else if (!section.items.length) {
        parts.push(h("p", { className: "section-note", text: "Nothing noted yet." }));
      }
      return h("section", { className: "notes-section" }, parts);
    }));
  }

  decision(decision) {
    const row = h("li", { className: "decision" }, [h("span", { className: "decision-text", text: decision.text }), ...this.jump(decision)]);
    if (this.editor) row.append(h("span", { className: "note-controls" }, this.editor.decisionControls(row, decision)));
    return row;
  }

  actionItem(item) {
    const id = `action-${item.id}`;
    const done = h("input", { attrs: { type: "checkbox", id, "aria-label": "Done" } });
    done.checked = item.done;
    done.disabled = !this.editor;
    done.addEventListener("change", () => this.editor?.tick(item, done.checked, done));
    const text = h("label", { className: "action-text", text: item.text, attrs: { for: id } });
    const meta = [];
    if (item.owner) meta.push(h("span", { className: "action-owner", text: item.owner }));
    if (item.due_text || item.due) {
      const due = h("span", { className: "action-due", text: `due ${item.due_text || item.due}` });
      if (item.due && item.due !== item.due_text) due.title = item.due;
      meta.push(due);
    }
    const row = h("li", { className: `action-item${item.done ? " is-done" : ""}` }, [
      done,
      h("div", { className: "action-body" }, [text, h("div", { className: "action-meta" }, [...meta, ...this.jump(item)])]),
    ]);
    if (this.editor) row.append(h("span", { className: "note-controls" }, this.editor.actionControls(row, item)));
    return row;
  }

  // A link to where the decision or item was said: in place when its caption is on the page
  // (live pages and the panel too), else the transcript part that holds it (moments.js).
  jump(noted) {
    const [segment] = noted.segment_ids || [];
    return segment ? [momentLink(segment)] : [];
  }

  // "Updated 19:22", in the server's time zone, as the page's other times are.
  updatedLabel(notes) {
    if (!notes.updated_at) return "";
    return `Updated ${wallClock(notes.updated_at, this.section.dataset.timeZone)}`;
  }

  ask(question) {
    const text = question.trim();
    if (text) this.answerFrom(this.section.dataset.askUrl, { question: text }, `Q: ${text}`);
  }

  // "Catch me up" and "Was I mentioned?" (live only): both need the name the viewer goes by
  // in the meeting; the page knows it (signed-in user, Zoom's screen name) or asks once.
  listenForCatchUp() {
    const since = role(this.catchUp, "catch-up-since");
    const nameForm = role(this.catchUp, "viewer-name-form");
    let pending = null;
    const run = (what) => {
      const name = this.viewerName();
      if (!name && (what === "mentions" || since.value === "joined")) {
        pending = what;
        nameForm.hidden = false;
        nameForm.elements.name.focus();
      } else if (what === "mentions") {
        this.mentions(name);
      } else {
        this.caughtUp(since.value, name);
      }
    };
    role(this.catchUp, "catch-up-button").addEventListener("click", () => run("catch-up"));
    role(this.catchUp, "mentions-button").addEventListener("click", () => run("mentions"));
    nameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = nameForm.elements.name.value.trim();
      if (!name) return;
      sessionStorage.setItem("viewer-name", name);
      nameForm.hidden = true;
      if (pending === "mentions") this.mentions(name);
      else this.caughtUp(since.value, name);
      pending = null;
    });
  }

  viewerName() {
    return (this.section.dataset.viewerName || sessionStorage.getItem("viewer-name") || "").trim();
  }

  caughtUp(since, name) {
    const minutes = Number(since);
    const payload = Number.isInteger(minutes) && minutes > 0 ? { minutes } : { name };
    const label = payload.minutes ? `Catch me up: the last ${minutes} minutes` : "Catch me up: since I joined";
    this.answerFrom(this.section.dataset.catchUpUrl, payload, label);
  }

  mentions(name) {
    this.answerFrom(this.section.dataset.mentionsUrl, { name }, `Was ${name} mentioned?`);
  }

  async answerFrom(url, payload, heading) {
    this.answer.hidden = false;
    this.answer.replaceChildren(h("p", { className: "muted", text: "Looking through the transcript…" }));
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.token },
        body: JSON.stringify(payload),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ?? "No answer.");
      this.answer.replaceChildren(
        h("p", { className: "ask-question", text: heading }),
        h("p", { className: "ask-text", text: body.answer }),
        h("ol", { className: "citations" }, body.citations.map((c) =>
          h("li", {}, [
            h("span", { className: "citation-meta", text: citationMeta(c, this.origin()) }),
            h("q", { className: "citation-text", text: c.text }),
            ...this.jump({ segment_ids: [c.segment_id] }),
          ]))),
      );
    } catch (error) {
      this.answer.replaceChildren(h("p", { className: "ask-error", text: error.message }));
    }
  }

  origin() {
    return Number(this.meeting.dataset.clockOrigin || 0);
  }
}

function fill(list, items, render, emptyText = "") {
  const nodes = items.map(render);
  if (!nodes.length && emptyText) nodes.push(h("li", { className: "muted", text: emptyText }));
  list.replaceChildren(...nodes);
}

function citationMeta(citation, origin) {
  const clock = clockLabel(citation.start_ms, origin);
  return clock ? `${citation.speaker || "Someone"} · ${clock}` : citation.speaker || "Someone";
}

function camel(name) {
  return name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
}

function start() {
  const meeting = document.getElementById("meeting");
  const section = document.querySelector('[data-role="ai-notes"]');
  if (!meeting || !section) return;
  const pane = new NotesPane(section, meeting);
  const initial = document.getElementById("notes-data");
  const notes = initial ? JSON.parse(initial.textContent) : null;
  if (notes) pane.show(notes);
  meeting.addEventListener("meeting:notes", (event) => pane.show(event.detail));
}

start();
