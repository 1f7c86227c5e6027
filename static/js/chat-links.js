// Chat text with its http(s) URLs as links, for chat lines that arrive live. Mirrors
// assistant/views/chat_links.py (the server-rendered lines) so a line reads the same however it
// arrived. Text only ever goes through text nodes: only http and https become an href.

import { h } from "./dom.js";

// A URL starts the text or follows a space, an opening bracket or a quote; it runs to the next
// space, angle bracket or quote.
const URL_PATTERN = /(?<![^\s(\[{<"'])https?:\/\/[^\s<>"'/?#]+(?:[/?#][^\s<>"']*)?/gi;
// Punctuation that ends a sentence rather than the URL before it.
const TRAILING = ".,;:!?";
const CLOSING = { ")": "(", "]": "[", "}": "{" };
// Where a long URL may wrap: after a slash (not inside "//") or "=", before "?", "#" or "&".
const BREAKS = /(?<=[/=])(?=[^/])|(?=[?#&])/;

const count = (text, char) => text.split(char).length - 1;

/** The URL without the sentence's punctuation after it; a bracket it opened stays closed. */
function trimmed(url) {
  let end = url.length;
  while (end > 0) {
    const last = url[end - 1];
    const head = url.slice(0, end);
    const unbalanced = Object.hasOwn(CLOSING, last) && count(head, last) > count(head, CLOSING[last]);
    if (!TRAILING.includes(last) && !unbalanced) break;
    end -= 1;
  }
  return url.slice(0, end);
}

const hasHost = (url) => url.split("://", 2)[1].split(/[/?#]/, 1)[0] !== "";

/**
 * `text` as plain runs and links, in order: [{text}, {text, url}, ...].
 * @param {string} text
 * @returns {{text: string, url?: string}[]}
 */
export function chatPieces(text) {
  const pieces = [];
  let plainFrom = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = trimmed(match[0]);
    if (!hasHost(url)) continue;
    if (match.index > plainFrom) pieces.push({ text: text.slice(plainFrom, match.index) });
    pieces.push({ text: url, url });
    plainFrom = match.index + url.length;
  }
  if (plainFrom < text.length) pieces.push({ text: text.slice(plainFrom) });
  return pieces;
}

/** A link's text cut where it may wrap (a <wbr> goes between). */
export function urlChunks(url) {
  return url.split(BREAKS).filter(Boolean);
}

/** The nodes of a chat line's text: text nodes and links that open in a new tab. */
export function chatNodes(text) {
  return chatPieces(text).map((piece) => {
    if (!piece.url) return document.createTextNode(piece.text);
    const link = h("a", {
      className: "chat-link",
      attrs: { href: piece.url, target: "_blank", rel: "noopener noreferrer nofollow" },
    });
    urlChunks(piece.url).forEach((chunk, i) => {
      if (i) link.append(h("wbr"));
      link.append(chunk);
    });
    return link;
  });
}
