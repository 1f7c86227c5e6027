// The Share control of a finished meeting's page (templates/shares/share_control.html): make a
// read-only link for someone without an account and copy it (its URL is shown only when it is
// made: the server keeps only a hash of it), see the links that work now with their expiry and
// openings, revoke one. The API is assistant/views/share_links.py; it checks who may, again.
// Everything from the server reaches the page through textContent only (dom.js).

import { h, role } from "./dom.js";

class ShareControl {
  constructor(root) {
    this.root = root;
    this.token = root.querySelector('input[name="csrfmiddlewaretoken"]')?.value ?? "";
    this.form = role(root, "share-create");
    this.expiry = role(root, "share-expiry");
    this.list = role(root, "share-list");
    this.status = role(root, "share-status");
    this.count = role(root, "share-count");
    this.fresh = role(root, "share-new");
    this.freshUrl = role(root, "share-new-url");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.create();
    });
    role(root, "share-copy").addEventListener("click", () => this.copy());
  }

  async load() {
    try {
      const body = await this.send(this.root.dataset.linksUrl, "GET");
      this.fillExpiry(body.expiry_days, body.default_days);
      this.render(body.links);
    } catch (error) {
      this.say(error.message);
    }
  }

  // The expiries on offer; the one picked stays picked when the list is loaded again.
  fillExpiry(days, fallback) {
    const picked = Number(this.expiry.value);
    const chosen = days.includes(picked) ? picked : fallback;
    this.expiry.replaceChildren(...days.map((d) => {
      const option = h("option", { text: d === 1 ? "1 day" : `${d} days`, attrs: { value: String(d) } });
      option.selected = d === chosen;
      return option;
    }));
  }

  render(links) {
    this.count.textContent = links.length ? ` (${links.length})` : "";
    const rows = links.map((link) => this.row(link));
    if (!rows.length) rows.push(h("li", { className: "muted", text: "None." }));
    this.list.replaceChildren(...rows);
  }

  row(link) {
    const made = `Made ${link.created_label}${link.created_by ? ` by ${link.created_by}` : ""}`;
    const opened = link.open_count
      ? `opened ${times(link.open_count)}, last ${link.last_opened_label}`
      : "not opened yet";
    const revoke = h("button", {
      className: "link-button",
      text: "Revoke",
      attrs: { type: "button", "aria-label": `Revoke the link made ${link.created_label}` },
    });
    revoke.addEventListener("click", () => this.revoke(link, revoke));
    const children = [
      h("div", { className: "share-link-head" }, [h("span", { text: made }), revoke]),
      h("div", { className: "share-link-meta", text: `Expires ${link.expires_label} · ${opened}` }),
    ];
    if (link.openings.length) children.push(openingsList(link.openings));
    return h("li", { className: "share-link", data: { linkId: String(link.id) } }, children);
  }

  async create() {
    this.say("");
    try {
      const made = await this.send(this.root.dataset.linksUrl, "POST", {
        expires_in_days: Number(this.expiry.value),
      });
      this.fresh.hidden = false;
      this.freshUrl.value = made.url;
      this.freshUrl.select();
      this.say(`Link made; it works until ${made.link.expires_label}.`);
      await this.load();
    } catch (error) {
      this.say(error.message);
    }
  }

  async revoke(link, button) {
    button.disabled = true;
    try {
      await this.send(this.linkUrl(link.id), "DELETE");
      this.fresh.hidden = true;
      this.freshUrl.value = "";
      this.say("Revoked: the link no longer opens.");
      await this.load();
    } catch (error) {
      button.disabled = false;
      this.say(error.message);
    }
  }

  async copy() {
    this.freshUrl.select();
    try {
      await navigator.clipboard.writeText(this.freshUrl.value);
      this.say("Copied.");
    } catch {
      // No clipboard access (an insecure origin, a refused permission): the URL stays selected.
      this.say("Press Ctrl+C (or ⌘C) to copy the selected link.");
    }
  }

  linkUrl(id) {
    return this.root.dataset.linkUrl.replace(/\/0\/$/, `/${encodeURIComponent(id)}/`);
  }

  say(text) {
    this.status.textContent = text;
  }

  async send(url, method, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": this.token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error ?? `The server answered ${response.status}.`);
    return answer;
  }
}

function openingsList(openings) {
  return h("details", { className: "share-openings" }, [
    h("summary", { text: "Openings" }),
    h("ol", {}, openings.map((o) => h("li", {
      text: [o.at_label, o.address, o.user_agent].filter(Boolean).join(" · "),
    }))),
  ]);
}

function times(count) {
  return count === 1 ? "once" : `${count} times`;
}

const root = document.querySelector('[data-role="share-control"]');
if (root) new ShareControl(root).load();
