// Web chat for the Minsheng sandbox: a citizen pane and a staff pane over the control API.
// Text sent by the bot is only ever placed with textContent / text nodes, never as HTML.
"use strict";

const LOCATION_DEFAULT = "31.2304, 121.4737";
const ENTITY_TAGS = {
  bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
};

const chats = new Map(); // chat id -> Map("bot:<id>" | "user:<id>" -> item)
const panes = [];
let staffGroupId = 0;
let since = 0;

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

// Build formatted text from Telegram entities (UTF-16 offsets, as JS strings are indexed).
function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const list = (entities || [])
    .filter((e) => ENTITY_TAGS[e.type])
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (start, end, nested, parent) => {
    let pos = start;
    let i = 0;
    while (i < nested.length) {
      const entity = nested[i];
      if (entity.offset < pos) { i += 1; continue; }
      if (entity.offset > pos) parent.append(text.slice(pos, entity.offset));
      const stop = Math.min(entity.offset + entity.length, end);
      const element = document.createElement(ENTITY_TAGS[entity.type]);
      const inner = [];
      let j = i + 1;
      while (j < nested.length && nested[j].offset < stop) { inner.push(nested[j]); j += 1; }
      build(entity.offset, stop, inner, element);
      parent.append(element);
      pos = stop;
      i = j;
    }
    if (pos < end) parent.append(text.slice(pos, end));
  };
  build(0, text.length, list, fragment);
  return fragment;
}

function timeOf(unix) {
  const date = new Date(unix * 1000);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
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
      this.showToast("Please enter two numbers, for example 31.2304, 121.4737", true);
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
    const scopes = [`chat:${chatId}|`, chatId < 0 ? "all_group_chats|" : "all_private_chats|", ""];
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
    this.log.replaceChildren();
    this.nodes = new Map();
    this.keyboard.hidden = true;
    for (const item of chatItems(chatId).values()) this.draw(item);
  }

  draw(item) {
    const node = renderItem(item, this);
    const old = this.nodes.get(item);
    if (old) {
      old.replaceWith(node);
    } else {
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
  meta.textContent = `${who} · ${timeOf(message.date)}${edited}${item.deleted ? " · deleted" : ""}`;
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
    if (message.text) {
      for (const pane of panes) {
        if (pane.chatId() === event.chat_id) pane.showToast(message.text, message.show_alert);
      }
    }
    return;
  }
  const fromBot = !event.kind.startsWith("user_");
  const key = `${fromBot ? "bot" : "user"}:${message.message_id}`;
  let item = items.get(key);
  if (!item) {
    item = { fromBot, message, deleted: false };
    items.set(key, item);
  }
  item.message = message;
  item.photoUrl = event.photo_url || item.photoUrl;
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
  const query = new URLSearchParams(window.location.search);
  panes.push(new Pane(document.getElementById("citizen"), { userId: query.get("citizen") }));
  panes.push(new Pane(document.getElementById("staff"), { userId: query.get("staff") }));
  poll();
}

main();
