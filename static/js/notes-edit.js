// A host's edits of the Notes pane (notes-pane.js): change, tick, add or remove an action item;
// reword or remove a decision. Each goes to the notes API (assistant/views/notes_api.py); the
// page shows the result at once, and live viewers also get the new notes as an event. Only
// built when the page says the user may edit (data-can-edit); the server checks again.

import { h } from "./dom.js";

export class NotesEditor {
  constructor(pane) {
    this.pane = pane;
    this.urls = pane.section.dataset;
    this.open = 0; // forms open: the pane waits with re-rendering until they close
  }

  // The buttons after an action item's text.
  actionControls(row, item) {
    return [
      this.button("Edit", `Edit “${item.text}”`, () => this.editAction(row, item)),
      this.button("Delete", `Delete “${item.text}”`, () =>
        this.confirmDelete(row, "Delete this action item?", () => this.deleteAction(item))),
    ];
  }

  // The buttons after a decision's text.
  decisionControls(row, decision) {
    return [
      this.button("Edit", `Edit the decision “${decision.text}”`, () => this.editDecision(row, decision)),
      this.button("Delete", `Delete the decision “${decision.text}”`, () =>
        this.confirmDelete(row, "Delete this decision?", () => this.deleteDecision(decision))),
    ];
  }

  button(text, label, onClick) {
    const button = h("button", { className: "link-button", text, attrs: { type: "button", "aria-label": label } });
    button.addEventListener("click", onClick);
    return button;
  }

  editAction(row, item) {
    const form = this.form("action-edit", [
      field("text", item.text, "Task", 300, true),
      field("owner", item.owner, "Owner", 300),
      field("due", item.due_text || item.due || "", "Due", 100),
    ], row, async (values) => {
      const saved = await this.send(this.itemUrl(item.id), "PATCH", { ...values, due: values.due || null });
      this.pane.update((notes) => {
        notes.action_items = notes.action_items.map((a) => (a.id === item.id ? { ...a, ...saved, due_text: values.due } : a));
      });
    });
    row.replaceWith(form);
    form.elements.text.focus();
  }

  // Also the checkbox: ticking an item done is an edit too.
  async tick(item, done, control) {
    control.setAttribute("aria-busy", "true");
    try {
      const saved = await this.send(this.itemUrl(item.id), "PATCH", { done });
      this.pane.update((notes) => {
        notes.action_items = notes.action_items.map((a) => (a.id === item.id ? { ...a, ...saved } : a));
      });
    } catch (error) {
      control.checked = !done;
      this.pane.problem(`Not saved: ${error.message}`);
    } finally {
      control.removeAttribute("aria-busy");
    }
  }

  addAction(anchor) {
    const form = this.form("action-edit action-add", [
      field("text", "", "Task", 300, true),
      field("owner", "", "Owner", 300),
      field("due", "", "Due (e.g. Friday or 2025-03-14)", 100),
    ], anchor, async (values) => {
      const body = { text: values.text };
      if (values.owner) body.owner = values.owner;
      if (values.due) body.due = values.due;
      const added = await this.send(this.urls.addItemUrl, "POST", body);
      this.pane.update((notes) => {
        const item = { ...added, due_text: values.due, edited: true };
        notes.action_items = [...notes.action_items.filter((a) => a.id !== item.id), item];
      });
    });
    anchor.hidden = true;
    anchor.after(form);
    form.elements.text.focus();
  }

  async deleteAction(item) {
    await this.send(this.itemUrl(item.id), "DELETE");
    this.pane.update((notes) => {
      notes.action_items = notes.action_items.filter((a) => a.id !== item.id);
    });
  }

  editDecision(row, decision) {
    const form = this.form("action-edit", [field("text", decision.text, "Decision", 500, true, 3)], row,
      async (values) => {
        const saved = await this.send(this.decisionUrl(decision.id), "PATCH", { text: values.text });
        this.pane.update((notes) => {
          notes.decisions = notes.decisions.map((d) => (d.id === decision.id ? { ...d, ...saved } : d));
        });
      });
    row.replaceWith(form);
    form.elements.text.focus();
  }

  async deleteDecision(decision) {
    await this.send(this.decisionUrl(decision.id), "DELETE");
    this.pane.update((notes) => {
      notes.decisions = notes.decisions.filter((d) => d.id !== decision.id);
    });
  }

  // A small "Delete this ...? [Delete] [Keep]" under the row; asking twice focuses it.
  confirmDelete(row, question, remove) {
    const asking = row.querySelector(".confirm-delete");
    if (asking) return asking.querySelector("button").focus();
    const ask = h("div", { className: "confirm-delete", attrs: { role: "group", "aria-label": question } }, [
      h("span", { text: question }),
      h("button", { className: "button button-danger", text: "Delete", attrs: { type: "button" } }),
      h("button", { className: "button button-secondary", text: "Keep", attrs: { type: "button" } }),
    ]);
    const [, yes, no] = ask.children;
    this.open += 1;
    const close = () => {
      ask.remove();
      this.closed();
    };
    no.addEventListener("click", close);
    yes.addEventListener("click", async () => {
      yes.setAttribute("aria-busy", "true");
      try {
        await remove();
      } catch (error) {
        this.pane.problem(`Not deleted: ${error.message}`);
      }
      close();
    });
    row.append(ask);
    no.focus();
  }

  // A form of text fields in place of `anchor`, saved by `save(values)`; Cancel puts it back.
  form(className, fields, anchor, save) {
    const form = h("form", { className }, [
      ...fields,
      h("div", { className: "edit-buttons" }, [
        h("button", { className: "button button-primary", text: "Save", attrs: { type: "submit" } }),
        h("button", { className: "button button-secondary", text: "Cancel", attrs: { type: "button" } }),
      ]),
    ]);
    this.open += 1;
    const close = () => {
      // The add button stays in place (hidden); an edited row was replaced by the form.
      const stayed = anchor.isConnected;
      if (stayed) form.remove();
      else form.replaceWith(anchor);
      anchor.hidden = false;
      this.closed();
      if (stayed) anchor.focus();
    };
    form.querySelector(".button-secondary").addEventListener("click", close);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const names = fields.map((f) => f.querySelector("input, textarea").name);
      const values = Object.fromEntries(names.map((n) => [n, form.elements[n].value.trim()]));
      form.setAttribute("aria-busy", "true");
      try {
        await save(values);
        close();
      } catch (error) {
        this.pane.problem(`Not saved: ${error.message}`);
      } finally {
        form.removeAttribute("aria-busy");
      }
    });
    return form;
  }

  closed() {
    this.open = Math.max(0, this.open - 1);
    if (!this.open) this.pane.refresh();
  }

  itemUrl(id) {
    return this.urls.itemUrl.replace(/0\/$/, `${id}/`);
  }

  decisionUrl(id) {
    return this.urls.decisionUrl.replace(/0\/$/, `${id}/`);
  }

  // The API's answer (null for 204), or an Error carrying its message.
  async send(url, method, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.pane.token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.ok) this.pane.problem("");
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error ?? `the server answered ${response.status}`);
    return answer;
  }
}

// A labelled text field; `rows` makes it a text area (a decision may be a sentence or two).
function field(name, value, label, maxLength, required = false, rows = 0) {
  const input = rows
    ? h("textarea", { attrs: { name, rows: String(rows), maxlength: String(maxLength) } })
    : h("input", { attrs: { name, type: "text", maxlength: String(maxLength) } });
  input.value = value ?? "";
  input.required = required;
  return h("label", { className: "action-field" }, [h("span", { text: label }), input]);
}
