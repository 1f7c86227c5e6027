// The Notes pane: summary, key points, decisions, action items (the host ticks them done or
// edits them inline), open questions, and "Ask this meeting". Everything from the meeting
// (transcript-derived text included) reaches the page through textContent only (dom.js).
// Live meetings: live-meeting.js dispatches each `notes` event as "meeting:notes" on #meeting.

import { h, role } from "./dom.js";
import { clockLabel } from "./format.js";
import { momentLink } from "./moments.js";

const STATUS_TEXT = {
  llm_unreachable: "The AI model is unreachable: showing the automatic extract instead.",
  llm_invalid: "The AI model's answer was unusable: showing the automatic extract instead.",
};

class NotesPane {
  constructor(section, meeting) {
    this.section = section;
    this.meeting = meeting;
    this.canEdit = section.dataset.canEdit === "true";
    this.token = section.querySelector('input[name="csrfmiddlewaretoken"]')?.value ?? "";
    this.seq = 0;
    for (const name of ["label", "updated", "status", "empty", "content", "summary", "points",
      "points-head", "decisions", "actions", "questions", "questions-head"]) {
      this[camel(name)] = role(section, `notes-${name}`);
    }
    this.form = role(section, "ask-form");
    this.answer = role(section, "ask-answer");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask(this.form.elements.question.value);
    });
    role(section, "ask-missed").addEventListener("click", () => this.ask("What did I miss?"));
  }

  show(notes) {
    if (!notes || (notes.seq && notes.seq < this.seq)) return;
    this.seq = notes.seq || this.seq;
    const extract = notes.engine === "extractive";
    this.label.hidden = !extract;
    this.label.textContent = notes.final ? "Automatic extract · final" : "Automatic extract";
    this.updated.textContent = notes.final && !extract ? "Final notes" : updatedLabel(notes);
    const problem = STATUS_TEXT[notes.status];
    this.status.hidden = !problem;
    this.status.textContent = problem ?? "";
    this.summary.textContent = notes.summary || "Nothing to summarise yet.";
    fill(this.points, notes.key_points, (text) => h("li", { text }));
    this.pointsHead.hidden = this.points.hidden = notes.key_points.length === 0;
    fill(this.decisions, notes.decisions, (d) => h("li", {}, [d.text, ...this.jump(d)]), "No decisions yet.");
    fill(this.actions, notes.action_items, (a) => this.actionItem(a), "No action items yet.");
    fill(this.questions, notes.open_questions, (text) => h("li", { text }));
    this.questionsHead.hidden = this.questions.hidden = notes.open_questions.length === 0;
    this.empty.hidden = true;
    this.content.hidden = false;
  }

  actionItem(item) {
    const id = `action-${item.id}`;
    const done = h("input", { attrs: { type: "checkbox", id, "aria-label": "Done" } });
    done.checked = item.done;
    done.disabled = !this.canEdit;
    done.addEventListener("change", () => this.save(item, { done: done.checked }, done));
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
    if (this.canEdit) {
      const edit = h("button", { className: "link-button", text: "Edit", attrs: { type: "button" } });
      edit.addEventListener("click", () => this.editForm(row, item));
      row.append(edit);
    }
    return row;
  }

  // A link to where the decision or item was said: in place when its caption is on the page
  // (live pages and the panel too), else the transcript part that holds it (moments.js).
  jump(noted) {
    const [segment] = noted.segment_ids || [];
    return segment ? [momentLink(segment)] : [];
  }

  editForm(row, item) {
    const field = (name, value, label) =>
      h("label", { className: "action-field" }, [
        h("span", { text: label }),
        Object.assign(h("input", { attrs: { name, type: "text", maxlength: "300" } }), { value }),
      ]);
    const form = h("form", { className: "action-edit" }, [
      field("text", item.text, "Task"),
      field("owner", item.owner, "Owner"),
      field("due", item.due_text || item.due || "", "Due"),
      h("button", { className: "button button-primary", text: "Save", attrs: { type: "submit" } }),
      h("button", { className: "button button-secondary", text: "Cancel", attrs: { type: "button" } }),
    ]);
    form.lastChild.addEventListener("click", () => form.replaceWith(row));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const values = Object.fromEntries(["text", "owner", "due"].map((n) => [n, form.elements[n].value.trim()]));
      this.save(item, { ...values, due: values.due || null }, form);
    });
    row.replaceWith(form);
    form.elements.text.focus();
  }

  async save(item, changes, control) {
    control.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(this.section.dataset.itemUrl.replace(/0\/$/, `${item.id}/`), {
        method: "PATCH",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.token },
        body: JSON.stringify(changes),
      });
      const saved = await response.json();
      if (!response.ok) throw new Error(saved.error ?? "Not saved.");
      // Live viewers also get the new notes as an event; this page shows the edit at once.
      const dueText = "due" in changes ? changes.due ?? "" : item.due_text;
      this.replaceItem({ ...item, ...saved, due_text: dueText });
    } catch (error) {
      this.status.hidden = false;
      this.status.textContent = `Not saved: ${error.message}`;
    } finally {
      control.removeAttribute("aria-busy");
    }
  }

  replaceItem(item) {
    const notes = this.current;
    if (!notes) return;
    notes.action_items = notes.action_items.map((a) => (a.id === item.id ? item : a));
    this.show({ ...notes, seq: 0 });
  }

  async ask(question) {
    const text = question.trim();
    if (!text) return;
    this.answer.hidden = false;
    this.answer.replaceChildren(h("p", { className: "muted", text: "Looking through the transcript…" }));
    try {
      const response = await fetch(this.section.dataset.askUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.token },
        body: JSON.stringify({ question: text }),
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ?? "No answer.");
      this.answer.replaceChildren(
        h("p", { className: "ask-question", text: `Q: ${text}` }),
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

function updatedLabel(notes) {
  if (!notes.updated_at) return "";
  const at = new Date(notes.updated_at);
  return `Updated ${at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
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
  if (notes) {
    pane.current = notes;
    pane.show(notes);
  }
  meeting.addEventListener("meeting:notes", (event) => {
    pane.current = event.detail;
    pane.show(event.detail);
  });
}

start();
