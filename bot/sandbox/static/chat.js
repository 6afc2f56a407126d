// Web chat for the Minsheng sandbox: a citizen pane and a staff pane over the control API.
// Text sent by the bot is only ever placed with textContent / text nodes, never as HTML; links
// become <a> elements only for http(s) addresses, opened apart from this page (noopener).
"use strict";

// In Heping Street of the sample areas (storage/sample_areas.geojson): the card shows 属地.
const LOCATION_DEFAULT = "45.7700, 126.6700";
const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
};

// A web address in plain text, as Telegram's apps find them; punctuation that ends a sentence
// or closes a bracket around the address is left out of it.
const URL_IN_TEXT = /https?:\/\/[^\s<>"'\u3000-\u303f\uff01-\uff5e]+/g;
const URL_TRAILER = /[.,;:!?)\]}]+$/;

const chats = new Map(); // chat id -> Map("bot:<id>" | "user:<id>" -> item)
const panes = [];
let staffGroupId = 0;
let since = 0;
// Events up to this one happened before the page was opened: their pop-ups are not shown again.
let seenBefore = 0;
// Bubble times in the desk's time zone, the one the bot's own messages speak in.
const CLOCK = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
let clock = new Intl.DateTimeFormat([], CLOCK);

function chatItems(chatId) {
  if (!chats.has(chatId)) chats.set(chatId, new Map());
  return chats.get(chatId);
}

async function postJson(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

// A link element for an http(s) address, or null for anything else (javascript:, data:, ...).
function safeLink(address) {
  let url;
  try {
    url = new URL(address);
  } catch (error) {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const link = document.createElement("a");
  link.href = url.href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

// Plain text with its web addresses as links (text nodes and <a> with textContent only).
function linked(text) {
  const fragment = document.createDocumentFragment();
  let pos = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const address = match[0].replace(URL_TRAILER, "");
    const link = safeLink(address);
    if (!link) continue;
    fragment.append(text.slice(pos, match.index));
    link.textContent = address;
    fragment.append(link);
    pos = match.index + address.length;
  }
  fragment.append(text.slice(pos));
  return fragment;
}

function entityElement(entity) {
  if (entity.type === "text_link") return safeLink(entity.url || "");
  return document.createElement(ENTITY_TAGS[entity.type]);
}

// Build formatted text from Telegram entities (UTF-16 offsets, as JS strings are indexed).
function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const list = (entities || [])
    .filter((e) => ENTITY_TAGS[e.type] || (e.type === "text_link" && safeLink(e.url || "")))
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  // Addresses inside a link or code (`raw`) stay text; elsewhere they become links.
  const plain = (parent, slice, raw) => parent.append(raw ? slice : linked(slice));
  const build = (start, end, nested, parent, raw) => {
    let pos = start;
    let i = 0;
    while (i < nested.length) {
      const entity = nested[i];
      if (entity.offset < pos) { i += 1; continue; }
      if (entity.offset > pos) plain(parent, text.slice(pos, entity.offset), raw);
      const stop = Math.min(entity.offset + entity.length, end);
      const element = entityElement(entity);
      const inner = [];
      let j = i + 1;
      while (j < nested.length && nested[j].offset < stop) { inner.push(nested[j]); j += 1; }
      const rawInside = raw || ["A", "CODE", "PRE"].includes(element.nodeName);
      build(entity.offset, stop, inner, element, rawInside);
      parent.append(element);
      pos = stop;
      i = j;
    }
    if (pos < end) plain(parent, text.slice(pos, end), raw);
  };
  build(0, text.length, list, fragment, false);
  return fragment;
}

function timeOf(unix) {
  return clock.format(new Date(unix * 1000));
}

class Pane {
  constructor(root, options) {
    this.root = root;
    this.options = options;
    root.append(document.getElementById("pane-body").content.cloneNode(true));
    this.log = root.querySelector(".log");
    this.toast = root.querySelector(".toast");
    this.keyboard = root.querySelector(".reply-keyboard");
    this.label = root.querySelector(".chat-label");
    this.userInput = root.querySelector(".user-id");
    this.language = root.querySelector(".language");
    this.groupToggle = root.querySelector(".group-toggle");
    this.text = root.querySelector(".text");
    this.photoInput = root.querySelector(".photo-input");
    if (options.userId) this.userInput.value = options.userId;
    this.userInput.addEventListener("change", () => this.redraw());
    if (this.groupToggle) this.groupToggle.addEventListener("change", () => this.redraw());
    root.querySelector(".composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText();
    });
    root.querySelector(".photo-button").addEventListener("click", () => this.photoInput.click());
    this.commandMenu = root.querySelector(".command-menu");
    root.querySelector(".menu-button").addEventListener("click", () => this.toggleCommands());
    this.photoInput.addEventListener("change", () => this.sendPhoto());
    root.querySelector(".location-button").addEventListener("click", () => this.askLocation());
    this.redraw();
  }

  userId() { return Number.parseInt(this.userInput.value, 10) || 1; }
  chatId() { return this.groupToggle && this.groupToggle.checked ? staffGroupId : this.userId(); }
  languageCode() { return this.language ? this.language.value : undefined; }

  async send(fields) {
    const body = { user_id: this.userId(), chat_id: this.chatId(), ...fields };
    if (this.languageCode()) body.language_code = this.languageCode();
    try {
      await postJson("/control/send", body);
    } catch (error) {
      this.showToast(String(error.message), true);
    }
  }

  sendText() {
    const text = this.text.value.trim();
    if (!text) return;
    this.text.value = "";
    this.send({ text });
  }

  async sendPhoto() {
    const file = this.photoInput.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("user_id", String(this.userId()));
    form.append("chat_id", String(this.chatId()));
    if (this.languageCode()) form.append("language_code", this.languageCode());
    const caption = this.text.value.trim();
    if (caption) form.append("caption", caption);
    form.append("photo", file, file.name);
    this.text.value = "";
    this.photoInput.value = "";
    // The header marks the upload as the page's own (the control API refuses other forms).
    const response = await fetch("/control/send", {
      method: "POST",
      headers: { "X-Sandbox-Upload": "photo" },
      body: form,
    });
    if (!response.ok) this.showToast(`Photo not sent: ${response.status}`, true);
  }

  askLocation() {
    const answer = window.prompt("Latitude, longitude", LOCATION_DEFAULT);
    if (answer === null) return;
    const [latitude, longitude] = answer.split(",").map((part) => Number.parseFloat(part));
    if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) {
      this.showToast("Please enter two numbers, for example 45.7700, 126.6700", true);
      return;
    }
    this.send({ location: { latitude, longitude } });
  }

  // The menu Telegram would show in this chat: the narrowest scope that has one, in the
  // user's language first (setMyCommands keys kept by the sandbox: "chat:<id>|<lang>", ...).
  async toggleCommands() {
    if (!this.commandMenu.hidden) {
      this.commandMenu.hidden = true;
      return;
    }
    const { commands } = await (await fetch("/control/commands")).json();
    const chatId = this.chatId();
    const lang = (this.languageCode() || "").slice(0, 2);
    // In a group, a member's own menu (scope chat_member) comes before the chat's.
    const member = chatId < 0 ? [`chat_member:${chatId}:${this.userId()}|`] : [];
    const scopes = [...member, `chat:${chatId}|`, chatId < 0 ? "all_group_chats|" : "all_private_chats|", ""];
    const keys = scopes.flatMap((scope) => (lang ? [scope + lang, scope] : [scope]));
    const found = keys.find((key) => commands[key] && commands[key].length);
    const menu = found ? commands[found] : [];
    this.commandMenu.replaceChildren();
    for (const { command, description } of menu) {
      const button = document.createElement("button");
      button.type = "button";
      const name = document.createElement("span");
      name.textContent = `/${command}`;
      const about = document.createElement("span");
      about.className = "description";
      about.textContent = description;
      button.append(name, about);
      button.addEventListener("click", () => {
        this.text.value = `/${command} `;
        this.commandMenu.hidden = true;
        this.text.focus();
      });
      this.commandMenu.append(button);
    }
    if (!menu.length) this.showToast("No command menu for this chat");
    this.commandMenu.hidden = !menu.length;
  }

  showToast(text, alert) {
    this.toast.textContent = text;
    this.toast.classList.toggle("alert", Boolean(alert));
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { this.toast.hidden = true; }, alert ? 8000 : 4000);
  }

  redraw() {
    if (this.commandMenu) this.commandMenu.hidden = true;
    const chatId = this.chatId();
    const group = chatId < 0;
    this.label.textContent = group
      ? `Staff group chat ${chatId}, posting as user ${this.userId()}`
      : `Private chat with the bot, as user ${chatId}`;
    this.log.replaceChildren(this.hint(group));
    this.nodes = new Map();
    this.keyboard.hidden = true;
    for (const item of chatItems(chatId).values()) this.draw(item);
  }

  // What to do in an empty chat; the first message takes its place.
  hint(group) {
    const hint = document.createElement("p");
    hint.className = "hint";
    const start = document.createElement("kbd");
    start.textContent = "/start";
    const menu = document.createElement("kbd");
    menu.textContent = "/";
    if (group) {
      hint.append(
        "New requests arrive here as cards with Accept and Reject. Type ", start,
        " or press the ", menu, " button for the staff commands.",
      );
    } else {
      hint.append(
        "Type ", start, " below and press Send, or press the ", menu,
        " button for the bot's menu.",
      );
      if (this.options.staff) {
        const web = document.createElement("kbd");
        web.textContent = "/web";
        hint.append(" ", web, " sends a sign-in link to the dashboard.");
      }
    }
    return hint;
  }

  draw(item) {
    const node = renderItem(item, this);
    const old = this.nodes.get(item);
    if (old) {
      old.replaceWith(node);
    } else {
      const hint = this.log.querySelector(".hint");
      if (hint) hint.remove();
      this.log.append(node);
      this.log.scrollTop = this.log.scrollHeight;
    }
    this.nodes.set(item, node);
    if (item.fromBot && !item.deleted) this.updateKeyboard(item.message.reply_markup);
  }

  updateKeyboard(markup) {
    if (!markup || markup.inline_keyboard) return;
    if (markup.remove_keyboard || !markup.keyboard) {
      this.keyboard.hidden = true;
      return;
    }
    this.keyboard.replaceChildren();
    for (const row of markup.keyboard) {
      const line = document.createElement("div");
      line.className = "row";
      for (const spec of row) {
        const button = typeof spec === "string" ? { text: spec } : spec;
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        element.addEventListener("click", () => {
          if (markup.one_time_keyboard) this.keyboard.hidden = true;
          this.pressReplyButton(button);
        });
        line.append(element);
      }
      this.keyboard.append(line);
    }
    this.keyboard.hidden = false;
  }

  pressReplyButton(button) {
    const userId = this.userId();
    if (button.request_contact) {
      const phone = `+86 138 ${String(userId).padStart(8, "0").slice(-8)}`;
      this.send({ contact: { phone_number: phone, first_name: `User ${userId}`, user_id: userId } });
    } else if (button.request_location) {
      const [latitude, longitude] = LOCATION_DEFAULT.split(",").map(Number.parseFloat);
      this.send({ location: { latitude, longitude } });
    } else {
      this.send({ text: button.text });
    }
  }

  press(message, data) {
    postJson("/control/press", {
      user_id: this.userId(), chat_id: this.chatId(), message_id: message.message_id, data,
    }).catch((error) => this.showToast(String(error.message), true));
  }
}

function describeAttachments(message) {
  const notes = [];
  if (message.location) notes.push(`📍 ${message.location.latitude}, ${message.location.longitude}`);
  if (message.contact) {
    notes.push(`📇 ${message.contact.first_name} ${message.contact.phone_number}`);
  }
  if (message.sticker) notes.push("[sticker]");
  if (message.voice) notes.push("[voice message]");
  if (message.video) notes.push("[video]");
  if (message.document) {
    const name = message.document.file_name || message.document;
    notes.push(`[document ${typeof name === "string" ? name : ""}]`.replace(" ]", "]"));
  }
  return notes;
}

function renderItem(item, pane) {
  const message = item.message;
  const box = document.createElement("div");
  box.className = `msg ${item.fromBot ? "bot" : "user"}${item.deleted ? " deleted" : ""}`;
  const meta = document.createElement("span");
  meta.className = "meta";
  const who = item.fromBot ? "Minsheng" : (message.from && message.from.first_name) || "User";
  const edited = (message.edits && message.edits.length) || message.edit_date ? " · edited" : "";
  const topic = item.topic ? ` · # ${item.topic}` : "";
  meta.textContent =
    `${who}${topic} · ${timeOf(message.date)}${edited}${item.deleted ? " · deleted" : ""}`;
  box.append(meta);
  if (message.photo) {
    if (item.photoUrl) {
      const image = document.createElement("img");
      image.src = item.photoUrl;
      image.alt = "Photo";
      box.append(image);
    } else {
      box.append("[photo]\n");
    }
  }
  const body = document.createElement("div");
  body.className = "body";
  const text = message.text ?? message.caption;
  const entities = item.fromBot ? message.entities
    : (message.text ? message.entities : message.caption_entities);
  if (text) body.append(formatted(text, entities));
  for (const note of describeAttachments(message)) {
    body.append(body.childNodes.length ? `\n${note}` : note);
  }
  box.append(body);
  const markup = message.reply_markup;
  if (item.fromBot && markup && markup.inline_keyboard) {
    box.append(renderInlineKeyboard(markup.inline_keyboard, message, pane));
  }
  return box;
}

function renderInlineKeyboard(rows, message, pane) {
  const keyboard = document.createElement("div");
  keyboard.className = "inline-keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "row";
    for (const button of row) {
      let element;
      if (button.url && /^(https?|tg):/i.test(button.url)) {
        element = document.createElement("a");
        element.href = button.url;
        element.target = "_blank";
        element.rel = "noopener noreferrer";
      } else {
        element = document.createElement("button");
        element.type = "button";
        if (button.callback_data !== undefined) {
          element.addEventListener("click", () => pane.press(message, button.callback_data));
        }
      }
      element.textContent = button.text;
      line.append(element);
    }
    keyboard.append(line);
  }
  return keyboard;
}

function applyEvent(event) {
  const message = event.message;
  const items = chatItems(event.chat_id);
  if (event.kind === "callback_answer") {
    // A pop-up is news once: not again when the page is reloaded and the feed replayed.
    if (message.text && event.seq > seenBefore) {
      for (const pane of panes) {
        if (pane.chatId() === event.chat_id) pane.showToast(message.text, message.show_alert);
      }
    }
    return;
  }
  const fromBot = !event.kind.startsWith("user_");
  if (event.kind === "forum_topic_created") {
    event.message = { ...message, text: `Topic “${message.name}” opened` };
    return applyEvent({ ...event, kind: "message" });
  }
  const key = `${fromBot ? "bot" : "user"}:${message.message_id}`;
  let item = items.get(key);
  if (!item) {
    item = { fromBot, message, deleted: false };
    items.set(key, item);
  }
  item.message = message;
  item.photoUrl = event.photo_url || item.photoUrl;
  item.topic = event.topic || item.topic;
  item.deleted = event.kind === "delete" || event.kind === "user_delete" || Boolean(message.deleted);
  for (const pane of panes) {
    if (pane.chatId() === event.chat_id) pane.draw(item);
  }
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`/control/events?since=${since}&timeout=25`);
      if (!response.ok) throw new Error(String(response.status));
      const feed = await response.json();
      if (feed.next < since) {
        chats.clear(); // the sandbox restarted: start over
        seenBefore = 0;
        panes.forEach((pane) => pane.redraw());
      }
      feed.events.forEach(applyEvent);
      since = feed.next;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main() {
  const info = await (await fetch("/control/info")).json();
  staffGroupId = info.staff_group_id;
  seenBefore = info.last_seq;
  if (info.time_zone) {
    clock = new Intl.DateTimeFormat([], { ...CLOCK, timeZone: info.time_zone });
    document.querySelector(".desk-zone").textContent = `Times are the desk's: ${info.time_zone}.`;
  }
  const query = new URLSearchParams(window.location.search);
  panes.push(new Pane(document.getElementById("citizen"), { userId: query.get("citizen") }));
  panes.push(new Pane(document.getElementById("staff"), {
    userId: query.get("staff"), staff: true,
  }));
  poll();
}

main();
