// The sandbox page: draws the emulated workspace and sends what the visitor does to the
// bot through the emulator. Everything user-supplied is inserted as text, never as HTML.
"use strict";

const view = { state: null, as: null, room: null, thread: null, version: -1 };
const EMOJI = {
  large_green_circle: "🟢", large_blue_circle: "🔵", white_check_mark: "✅", black_circle: "⚫",
  rotating_light: "🚨", warning: "⚠️", inbox_tray: "📥", email: "📧", envelope: "✉️",
  hourglass: "⏳", fire: "🔥", bell: "🔔", lock: "🔒", link: "🔗", memo: "📝", paperclip: "📎",
  tada: "🎉", bar_chart: "📊", busts_in_silhouette: "👥", speech_balloon: "💬", x: "❌", mag: "🔍",
};
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

// --- Slack mrkdwn, the useful part ------------------------------------------------------

function unescape(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function special(inner) {
  const [target, label] = inner.split("|", 2);
  const names = view.state ? view.state.names : {};
  if (target.startsWith("@")) return el("span", { class: "mention" }, "@" + (names[target.slice(1)] || target.slice(1)));
  if (target.startsWith("#")) return el("span", { class: "mention" }, "#" + (label || channelName(target.slice(1))));
  if (target.startsWith("!date^")) return document.createTextNode(label || target);
  if (target.startsWith("!")) return el("span", { class: "mention" }, "@" + target.slice(1).split("^")[0]);
  if (/^(https?|mailto):/.test(target)) return el("a", { href: target, target: "_blank", rel: "noopener" }, label || target);
  return document.createTextNode("<" + inner + ">");
}

function channelName(id) {
  const room = view.state && view.state.channels.find((c) => c.id === id);
  return room ? room.name.replace(/^#/, "") : id;
}

function inline(text) {
  // *bold*, _italic_, ~strike~, `code`, :emoji:, then Slack's <…> specials.
  const out = [];
  const pattern = /<([^<>]+)>|`([^`]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~|:([a-z0-9_+-]+):/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(unescape(text.slice(last, m.index)));
    if (m[1] !== undefined) out.push(special(m[1]));
    else if (m[2] !== undefined) out.push(el("code", {}, unescape(m[2])));
    else if (m[3] !== undefined) out.push(el("strong", {}, ...inline(m[3])));
    else if (m[4] !== undefined) out.push(el("em", {}, ...inline(m[4])));
    else if (m[5] !== undefined) out.push(el("s", {}, ...inline(m[5])));
    else out.push(EMOJI[m[6]] || m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(unescape(text.slice(last)));
  return out;
}

function mrkdwn(text, plain = false) {
  const box = el("div", { class: "text" });
  let quote = null;
  for (const line of String(text || "").split("\n")) {
    const quoted = !plain && /^(&gt;|>) ?/.test(line);
    const content = quoted ? line.replace(/^(&gt;|>) ?/, "") : line;
    const parts = plain ? [content] : inline(content);
    if (quoted) {
      if (!quote) { quote = el("blockquote"); box.append(quote); }
      quote.append(...parts, el("br"));
    } else {
      quote = null;
      box.append(...parts, el("br"));
    }
  }
  if (box.lastChild && box.lastChild.nodeName === "BR") box.lastChild.remove();
  return box;
}

function textObject(obj) {
  if (!obj) return el("span");
  return mrkdwn(obj.text, obj.type === "plain_text");
}

// --- Block Kit --------------------------------------------------------------------------

function renderBlocks(blocks, message, channel) {
  const box = el("div", { class: "blocks" });
  for (const block of blocks) {
    if (block.type === "header") box.append(el("div", { class: "block-header" }, textObject(block.text)));
    else if (block.type === "section") {
      const section = el("div", { class: "block-section" });
      if (block.text) section.append(textObject(block.text));
      if (block.fields) section.append(el("div", { class: "block-fields" }, block.fields.map(textObject)));
      if (block.accessory) section.append(element(block.accessory, block, message, channel));
      box.append(section);
    } else if (block.type === "context") {
      box.append(el("div", { class: "block-context" }, (block.elements || []).map((e) => e.type === "image" ? (e.alt_text || "") : textObject(e))));
    } else if (block.type === "actions") {
      box.append(el("div", { class: "block-actions", "data-block-id": block.block_id }, (block.elements || []).map((e) => element(e, block, message, channel))));
    } else if (block.type === "input") {
      box.append(el("label", { class: "block-input", "data-block-id": block.block_id },
        textObject(block.label), element(block.element, block, message, channel)));
    } else if (block.type === "divider") box.append(el("hr", { class: "block-divider" }));
    else if (block.type === "image") box.append(el("div", { class: "hint" }, "[image] " + (block.alt_text || "")));
    else if (block.type === "rich_text") box.append(mrkdwn(message.text));
    else box.append(el("div", { class: "hint" }, `[${block.type} block]`));
  }
  return box;
}

function element(e, block, message, channel) {
  if (e.type === "button") {
    return el("button", {
      type: "button", class: e.style || "", "data-action-id": e.action_id,
      onclick: () => click(channel, message, e.action_id, e.value, block.block_id),
    }, e.text ? e.text.text : e.action_id);
  }
  if (e.type === "static_select") {
    const groups = e.option_groups || [{ label: null, options: e.options || [] }];
    const select = el("select", {
      "data-action-id": e.action_id,
      onchange: (ev) => click(channel, message, e.action_id, ev.target.value, block.block_id),
    }, el("option", { value: "" }, e.placeholder ? e.placeholder.text : "Choose…"));
    for (const group of groups) {
      const holder = group.label ? el("optgroup", { label: group.label.text }) : select;
      for (const option of group.options) holder.append(el("option", { value: option.value }, option.text.text));
      if (holder !== select) select.append(holder);
    }
    if (e.initial_option) select.value = e.initial_option.value;
    return select;
  }
  if (e.type === "overflow") {  // the ⋯ menu: choosing an item is the click
    const menu = el("select", {
      "data-action-id": e.action_id, title: "more",
      onchange: (ev) => { if (ev.target.value) click(channel, message, e.action_id, ev.target.value, block.block_id); ev.target.value = ""; },
    }, el("option", { value: "" }, "⋯"));
    for (const option of e.options || []) menu.append(el("option", { value: option.value }, option.text.text));
    return menu;
  }
  if (e.type === "plain_text_input" && message.modal) {  // a modal's input: sent on submit
    return el(e.multiline ? "textarea" : "input", {
      "data-action-id": e.action_id, maxlength: e.max_length, rows: 6,
    }, e.multiline ? (e.initial_value || "") : null);
  }
  if (e.type === "plain_text_input") {
    // As Slack does for an input with dispatch_action: Enter sends what was typed.
    return el("input", {
      type: "text", "data-action-id": e.action_id, maxlength: e.max_length,
      placeholder: e.placeholder ? e.placeholder.text : "press Enter to send",
      onkeydown: (ev) => {
        if (ev.key !== "Enter" || !ev.target.value.trim()) return;
        ev.preventDefault();
        click(channel, message, e.action_id, ev.target.value, block.block_id);
      },
    });
  }
  return el("span", { class: "hint" }, `[${e.type}]`);
}

// --- drawing ----------------------------------------------------------------------------

function renderMessage(message, channel, inThread) {
  const who = el("span", { class: "who" + (message.bot ? " bot" : "") }, message.author);
  const body = message.blocks.length ? renderBlocks(message.blocks, message, channel) : mrkdwn(message.text);
  const node = el("div", { class: "msg", "data-ts": message.ts }, who,
    message.edited ? el("span", { class: "edited" }, "(edited)") : null, body);
  for (const name of message.files) node.append(el("div", { class: "hint" }, "📎 " + name));
  if (!message.bot) {  // what Slack offers on a person's message: a reaction, the ⋯ menu
    const ticketed = (message.reactions || []).includes("ticket");
    node.append(
      el("button", { type: "button", class: "thread-link" + (ticketed ? " current" : ""), "data-react": message.ts,
        title: "react with 🎫 (CASE_REACTION): makes the message a case",
        onclick: () => send("react", { channel, ts: message.ts, name: "ticket" }) }, "🎫"),
      el("button", { type: "button", class: "thread-link", "data-shortcut": message.ts,
        title: "⋯ → Open a case (a message shortcut)",
        onclick: () => send("shortcut", { channel, ts: message.ts }) }, "⋯ Open a case"));
  }
  if (!inThread) {
    const label = message.replies.length ? `${message.replies.length} repl${message.replies.length === 1 ? "y" : "ies"} · reply` : "reply in thread";
    node.append(el("button", { type: "button", class: "thread-link", onclick: () => openThread(message.ts) }, label));
    if (view.thread === message.ts || message.replies.length) {
      const thread = el("div", { class: "thread" }, message.replies.map((r) => renderMessage(r, channel, true)));
      if (message.replies.length) node.append(thread);
    }
  }
  return node;
}

function currentRoom() {
  return view.state.channels.find((c) => c.id === view.room) || view.state.channels[0];
}

function visibleRooms() {
  return view.state.channels.filter((c) => !c.dm_of || c.dm_of === view.as);
}

function draw() {
  const state = view.state;
  if (!state) return;
  const as = $("as");
  if (!as.options.length) {
    for (const p of state.people) as.append(el("option", { value: p.id }, `${p.name} (${p.role})`));
    as.value = view.as;
  }
  const nav = $("rooms");
  nav.replaceChildren(...visibleRooms().map((room) => el("button", {
    type: "button", class: room.id === view.room ? "current" : "", "data-room": room.id,
    onclick: () => { view.room = room.id; view.thread = null; draw(); },
  }, room.name, el("span", { class: "count" }, String(room.messages.length)))));
  const room = currentRoom();
  $("room-name").textContent = room.name;
  $("room-purpose").textContent = room.purpose;
  // Each part is redrawn only when what it shows has changed: an open menu or a selection
  // elsewhere on the page survives other people's activity.
  redraw("messages", [room, view.thread], () => {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(...room.messages.map((m) => renderMessage(m, room.id, false)));
    if (atBottom) list.scrollTop = list.scrollHeight;
  });
  $("thread-bar").hidden = !view.thread;
  const mine = state.ephemerals.filter((e) => e.user === view.as).slice(-8).reverse();
  redraw("ephemerals", mine, () => $("ephemerals").replaceChildren(...(mine.length ? mine.map((e) => el("div", { class: "ephemeral" },
    e.blocks && e.blocks.length ? renderBlocks(e.blocks, e, e.channel) : mrkdwn(e.text))) : [el("p", { class: "hint" }, "Answers to /case and /queue, and refusals, appear here.")])));
  const modal = (state.modals || []).find((m) => m.user === view.as);
  redraw("modal", [view.as, modal], () => drawModal(modal));
  const home = state.homes[view.as];
  redraw("home", [view.as, home], () => $("home").replaceChildren(home ? renderBlocks(home.blocks || [], {}, null) : el("p", { class: "hint" }, "Not opened yet.")));
}

function drawModal(modal) {
  const box = $("modal");
  if (!modal) { box.hidden = true; box.replaceChildren(); return; }
  const body = renderBlocks(modal.blocks || [], { modal: true }, null);
  const values = () => {
    const found = {};
    for (const input of body.querySelectorAll(".block-input")) {
      const field = input.querySelector("[data-action-id]");
      found[input.dataset.blockId] = { [field.dataset.actionId]: field.value };
    }
    return found;
  };
  const buttons = el("div", { class: "modal-buttons" },
    el("button", { type: "button", id: "modal-close", onclick: () => send("close", { view_id: modal.id }) },
      modal.close ? modal.close.text : "Cancel"));
  if (modal.submit) {
    buttons.append(el("button", { type: "button", id: "modal-submit", class: "primary",
      onclick: () => send("submit", { view_id: modal.id, values: values() }) }, modal.submit.text));
  }
  box.replaceChildren(el("div", { class: "modal-box" },
    el("h3", {}, modal.title ? modal.title.text : ""), body, buttons));
  box.hidden = false;
}

const drawn = {};
function redraw(part, content, paint) {
  const key = JSON.stringify(content);
  if (drawn[part] === key) return;
  drawn[part] = key;
  paint();
}

function openThread(ts) {
  view.thread = ts;
  draw();
  $("text").focus();
}

function person() {
  return view.state.people.find((p) => p.id === view.as);
}

// --- acting -----------------------------------------------------------------------------

async function send(path, body) {
  $("error").textContent = "";
  try {
    const response = await fetch("/sandbox/" + path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: view.as, ...body }),
    });
    if (!response.ok) $("error").textContent = (await response.json()).error || response.statusText;
    return response.ok;
  } catch (error) {
    $("error").textContent = "The sandbox did not answer: " + error;
    return false;
  }
}

function click(channel, message, actionId, value, blockId) {
  if (channel === null) return;
  send("click", { channel, ts: message.ts, action_id: actionId, value, block_id: blockId });
}

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function submit(event) {
  event.preventDefault();
  const text = $("text").value.trim();
  const chosen = $("file").files[0];
  if (!text && !chosen) return;
  const command = text.match(/^(\/[a-z]+)\s*(.*)$/s);
  let ok;
  if (command) {
    ok = await send("command", { command: command[1], text: command[2], channel: view.room });
  } else {
    const files = chosen ? [{ name: chosen.name, data: await base64Of(chosen) }] : undefined;
    ok = await send("post", { channel: view.room, text, thread_ts: view.thread, files });
  }
  if (ok) {
    $("text").value = "";
    $("file").value = "";
  }
}

function choosePerson(id) {
  view.as = id;
  view.thread = null;
  const p = person();
  view.room = p.room;
  send("home", {});
  draw();
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`/sandbox/state?since=${view.version}`);
      if (!response.ok) throw new Error(response.statusText);
      const state = await response.json();
      const first = view.state === null;
      view.state = state;
      view.version = state.version;
      if ($("error").textContent.startsWith("Lost")) $("error").textContent = "";
      if (first) choosePerson(state.people[0].id);
      draw();
    } catch (error) {
      $("error").textContent = "Lost the sandbox (stopped?); retrying…";
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

$("as").addEventListener("change", (ev) => choosePerson(ev.target.value));
$("composer").addEventListener("submit", submit);
$("text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) submit(ev);
});
$("thread-cancel").addEventListener("click", () => { view.thread = null; draw(); });
$("home-open").addEventListener("click", () => send("home", {}));
poll();
