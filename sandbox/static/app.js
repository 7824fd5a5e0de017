// The sandbox page: polls /ui/state, shows what the bot sent, and sends what you do.
// Everything shown comes as HTML the server rendered and escaped (sandbox/blockkit_html.py).
"use strict";

const INPUT_TYPES = new Set([
  "plain_text_input", "number_input", "email_text_input", "url_text_input",
  "static_select", "multi_static_select", "external_select", "multi_external_select",
  "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
  "channels_select", "multi_channels_select", "radio_buttons", "checkboxes",
  "datepicker", "timepicker", "datetimepicker", "overflow",
]);

const S = {
  user: localStorage.getItem("samverkan.user") || "",
  conv: localStorage.getItem("samverkan.conv") || "",
  version: -1,
  poll: null,
  modalId: null,
  modalKey: null,
  homeId: null,
  homeKey: null,
  messagesHtml: null,
  peopleKey: null,
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(path, body) {
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return await response.json();
  } catch (error) {
    return { error: String(error) };
  }
}

function valueOf(el) {
  const type = el.dataset.type;
  if (el.classList.contains("bk-choices")) {
    const checked = [...el.querySelectorAll("input:checked")].map((i) => i.value);
    const many = type === "checkboxes" || type.startsWith("multi_");
    return many ? checked : (checked.length ? checked[0] : null);
  }
  if (el.tagName === "SELECT" && el.multiple) return [...el.selectedOptions].map((o) => o.value);
  return el.value === "" ? null : el.value;
}

function collect(root) {
  const values = {};
  root.querySelectorAll("[data-action-id]").forEach((el) => {
    if (!INPUT_TYPES.has(el.dataset.type) || el.dataset.type === "overflow") return;
    const block = (values[el.dataset.blockId] ||= {});
    block[el.dataset.actionId] = valueOf(el);
  });
  return values;
}

function restore(root, values) {
  root.querySelectorAll("[data-action-id]").forEach((el) => {
    const block = values[el.dataset.blockId];
    if (!block || !(el.dataset.actionId in block)) return;
    const value = block[el.dataset.actionId];
    const wanted = new Set(Array.isArray(value) ? value : value === null ? [] : [value]);
    if (el.classList.contains("bk-choices")) {
      el.querySelectorAll("input").forEach((i) => { i.checked = wanted.has(i.value); });
    } else if (el.tagName === "SELECT") {
      [...el.options].forEach((o) => { o.selected = wanted.has(o.value); });
      if (!el.multiple && !wanted.size) el.value = "";
    } else {
      el.value = value === null ? "" : value;
    }
  });
}

function refresh() {
  S.version = -1;
  if (S.poll) S.poll.abort();
}

function conversationButton(c) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "nav-item" + (c.id === S.conv ? " active" : "") + (c.unread ? " unread" : "");
  button.dataset.conv = c.id;
  button.textContent = c.name;
  button.title = c.topic || "";
  return button;
}

function render(state) {
  S.user = state.user;
  S.conv = state.conversation;
  localStorage.setItem("samverkan.user", S.user);
  localStorage.setItem("samverkan.conv", S.conv);

  const peopleKey = JSON.stringify(state.people);
  if (peopleKey !== S.peopleKey) {
    S.peopleKey = peopleKey;
    const select = $("user");
    select.replaceChildren(...state.people.map((p) => {
      const option = document.createElement("option");
      option.value = p.id;
      option.textContent = `${p.name} – ${p.agency}`;
      return option;
    }));
  }
  $("user").value = S.user;
  const me = state.people.find((p) => p.id === S.user);
  $("who-detail").textContent = me ? `${me.title}, ${me.agency}` : "";

  const channels = state.conversations.filter((c) => c.kind === "channel");
  const dms = state.conversations.filter((c) => c.kind === "dm");
  $("channels").replaceChildren(...channels.map(conversationButton));
  $("dms").replaceChildren(...dms.map(conversationButton));
  $("nav-home").classList.toggle("active", S.conv === "home");
  $("clock-now").textContent = state.clock;
  for (const [jump, when] of Object.entries(state.jumps || {})) {
    const slot = document.querySelector(`#clock [data-jump="${CSS.escape(jump)}"] .when`);
    if (slot) slot.textContent = when ? `(${when})` : "";
  }

  const status = $("status");
  if (state.status === "ready") {
    status.hidden = true;
  } else {
    status.hidden = false;
    status.textContent = state.status === "seeding" || state.status === "starting"
      ? "Boten startar och demoforumen skapas …"
      : state.status;
  }

  const current = state.conversations.find((c) => c.id === S.conv);
  const home = S.conv === "home";
  $("conv-name").textContent = home ? "Hem – Samverkan" : (current ? current.name : "");
  $("conv-topic").textContent = home ? "App Home: dina forum och nästa möten" : (current ? current.topic : "");
  $("messages").hidden = home;
  $("composer").hidden = home;
  $("home").hidden = !home;

  if (home) {
    const view = state.home;
    const key = view ? `${view.id}:${view.hash}` : "none";
    if (key !== S.homeKey) {
      S.homeKey = key;
      S.homeId = view ? view.id : null;
      $("home").innerHTML = view ? view.html : '<p class="sub">Öppnar Hem …</p>';
    }
  } else if (state.messages !== S.messagesHtml) {
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80 || S.messagesHtml === null;
    S.messagesHtml = state.messages;
    box.innerHTML = state.messages || '<p class="sub empty">Inga meddelanden än. Skriv <code>/samverkan hjälp</code>.</p>';
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  renderModal(state.modal);
}

function renderModal(modal) {
  const backdrop = $("modal-backdrop");
  if (!modal) {
    backdrop.hidden = true;
    S.modalId = null;
    S.modalKey = null;
    return;
  }
  const key = `${modal.id}:${modal.hash}`;
  if (key === S.modalKey) return;
  const body = $("modal-body");
  // Slack keeps what was typed in fields whose block and action ids stay the same.
  const kept = modal.id === S.modalId ? collect(body) : null;
  S.modalId = modal.id;
  S.modalKey = key;
  $("modal-title").innerHTML = modal.title;
  body.innerHTML = modal.html;
  if (kept) restore(body, kept);
  $("modal-error").textContent = "";
  const submit = $("modal-submit");
  submit.hidden = !modal.submit;
  submit.innerHTML = modal.submit || "";
  $("modal-close").innerHTML = modal.close;
  $("modal-back").hidden = modal.depth < 2;
  backdrop.hidden = false;
}

function showErrors(errors) {
  const body = $("modal-body");
  body.querySelectorAll(".bk-error").forEach((e) => { e.textContent = ""; });
  body.querySelectorAll(".has-error").forEach((e) => e.classList.remove("has-error"));
  $("modal-error").textContent = errors[""] || "";
  let first = null;
  for (const [blockId, text] of Object.entries(errors)) {
    if (!blockId) continue;
    const slot = body.querySelector(`[data-error-for="${CSS.escape(blockId)}"]`);
    if (!slot) {
      $("modal-error").textContent = text;
      continue;
    }
    slot.textContent = text;
    slot.parentElement.classList.add("has-error");
    first = first || slot.parentElement;
  }
  if (first) first.scrollIntoView({ block: "center" });
}

async function loop() {
  for (;;) {
    const controller = new AbortController();
    S.poll = controller;
    const params = new URLSearchParams({ user: S.user, conv: S.conv, since: String(S.version) });
    try {
      const response = await fetch(`/ui/state?${params}`, { signal: controller.signal });
      const state = await response.json();
      // A click may have moved to another conversation or person while this answer was
      // on its way (refresh() aborts it): drawing it would take the page back there.
      if (controller.signal.aborted) continue;
      S.version = state.version;
      render(state);
    } catch (error) {
      if (error.name !== "AbortError") await sleep(1000);
    }
  }
}

function sendAction(el, value) {
  const base = {
    user: S.user,
    block_id: el.dataset.blockId,
    action_id: el.dataset.actionId,
    value,
  };
  if (el.closest("#modal")) {
    return post("/ui/action", { ...base, view_id: S.modalId, values: collect($("modal-body")) });
  }
  if (el.closest("#home")) {
    return post("/ui/action", { ...base, view_id: S.homeId, values: collect($("home")) });
  }
  const message = el.closest(".msg");
  if (message) {
    return post("/ui/action", { ...base, conv: message.dataset.conv, ts: message.dataset.ts });
  }
  return null;
}

function go(conv) {
  S.conv = conv;
  S.messagesHtml = null;
  S.homeKey = null;
  if (conv === "home") post("/ui/home", { user: S.user });
  refresh();
}

async function jumpClock(body) {
  const result = await post("/ui/clock", body);
  if (result.error) {
    const status = $("status");
    status.hidden = false;
    status.textContent = result.error;
  }
  refresh();
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action-id]");
  if (button) {
    event.preventDefault();
    sendAction(button, button.dataset.value === undefined ? null : button.dataset.value);
    if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
    return;
  }
  const nav = event.target.closest("#sidebar [data-conv]");
  if (nav) {
    go(nav.dataset.conv);
    return;
  }
  const jump = event.target.closest("[data-jump]");
  if (jump) jumpClock({ ...jump.dataset });
});

document.addEventListener("change", (event) => {
  const el = event.target.closest("[data-action-id]");
  if (!el || el.tagName === "BUTTON") return;
  // Fields of input blocks only report on submit, unless the block dispatches actions.
  if (el.closest(".bk-input-block") && !el.dataset.dispatch) return;
  sendAction(el, valueOf(el));
  if (el.dataset.type === "overflow") el.value = "";
});

document.addEventListener("DOMContentLoaded", () => {
  $("user").addEventListener("change", (event) => {
    S.user = event.target.value;
    // The previous person's conversations (their DM has an id of its own) must not be
    // clickable until the new person's list arrives: a click there would land elsewhere.
    $("channels").replaceChildren();
    $("dms").replaceChildren();
    $("who-detail").textContent = "";
    go(S.conv);
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value;
    input.value = "";
    if (text.trim()) post("/ui/command", { user: S.user, conv: S.conv, text });
  });
  $("modal-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("modal-submit");
    submit.disabled = true;
    try {
      const result = await post("/ui/submit", {
        user: S.user,
        view_id: S.modalId,
        values: collect($("modal-body")),
      });
      if (result.error) showErrors({ "": result.error });
      else showErrors(result.errors || {});
    } finally {
      submit.disabled = false;
    }
  });
  const close = () => { if (S.modalId) post("/ui/close", { user: S.user, view_id: S.modalId }); };
  $("modal-close").addEventListener("click", close);
  $("modal-x").addEventListener("click", close);
  $("modal-back").addEventListener("click", close);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && S.modalId) close();
  });
  $("clock-at").addEventListener("submit", (event) => {
    event.preventDefault();
    const at = $("clock-input").value;
    if (at) jumpClock({ jump: "at", at });
  });
  loop();
});
