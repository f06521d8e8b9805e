// The web chat page: a visitor token kept in localStorage, one WebSocket, replies pushed by the server.
(function () {
  "use strict";
  var TEXTS = {
    zh: { title: "在线客服", send: "发送", placeholder: "请输入您的问题…", online: "在线", offline: "连接中…",
          failed: "消息未发送，正在重试。" },
    en: { title: "Customer service", send: "Send", placeholder: "Type your question…", online: "online",
          offline: "connecting…", failed: "Not sent yet; retrying." }
  };
  var params = new URLSearchParams(location.search);
  var lang = (params.get("lang") || navigator.language || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  var t = TEXTS[lang];
  var TOKEN_KEY = "bots.webchat.token";
  var log = document.getElementById("log");
  var buttons = document.getElementById("buttons");
  var input = document.getElementById("input");
  var status = document.getElementById("status");
  var pending = {};  // id -> message not yet acknowledged; resent on reconnect (same id: processed once)
  var ws = null;
  var retryMs = 500;

  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.getElementById("title").textContent = t.title;
  document.getElementById("send").textContent = t.send;
  input.placeholder = t.placeholder;
  status.textContent = t.offline;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function render(item) {
    if (item.id && log.querySelector('[data-id="' + item.id + '"]')) return;
    var li = document.createElement("li");
    li.className = "msg " + item.role;
    if (item.id) li.dataset.id = item.id;
    li.textContent = item.text || "";
    (item.attachments || []).forEach(function (a) {
      if (a.kind === "image") {
        var img = document.createElement("img");
        img.src = a.url; img.alt = a.name || "";
        li.appendChild(img);
      } else {
        var link = document.createElement("a");
        link.href = a.url; link.textContent = a.name || a.url; link.target = "_blank"; link.rel = "noopener";
        li.appendChild(document.createElement("br")); li.appendChild(link);
      }
    });
    log.appendChild(li);
    showButtons(item.role === "customer" ? [] : item.buttons || []);
    log.scrollTop = log.scrollHeight;
  }

  function showButtons(list) {
    buttons.textContent = "";
    list.forEach(function (b) {
      var el = document.createElement("button");
      el.type = "button"; el.textContent = b.label;
      el.onclick = function () { say(b.value, b.label); };
      buttons.appendChild(el);
    });
  }

  function say(text, label) {
    var msg = { type: "message", id: newId(), text: text, label: label || "", locale: lang };
    pending[msg.id] = msg;
    render({ role: "customer", id: msg.id, text: label || text });
    if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg));
  }

  function onFrame(event) {
    var data = JSON.parse(event.data);
    if (data.type === "history") {
      data.items.forEach(render);
    } else if (data.type === "reply") {
      render(data);
    } else if (data.type === "ack") {
      delete pending[data.id];
    } else if (data.type === "error") {
      delete pending[data.id];
      render({ role: "error", text: lang === "zh" ? data.message_zh : data.message });
    }
  }

  async function session() {
    var response = await fetch("/webchat/session", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: localStorage.getItem(TOKEN_KEY) || "" })
    });
    if (!response.ok) throw new Error("session " + response.status);
    var token = (await response.json()).token;
    localStorage.setItem(TOKEN_KEY, token);
    return token;
  }

  async function connect() {
    try {
      var token = await session();
    } catch (e) {
      return setTimeout(connect, retryMs = Math.min(retryMs * 2, 10000));
    }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/webchat/ws?token=" + encodeURIComponent(token));
    ws.onmessage = onFrame;
    ws.onopen = function () {
      retryMs = 500;
      status.textContent = t.online;
      Object.keys(pending).forEach(function (id) { ws.send(JSON.stringify(pending[id])); });
    };
    ws.onclose = function () {
      status.textContent = t.offline;
      setTimeout(connect, retryMs = Math.min(retryMs * 2, 10000));
    };
  }

  document.getElementById("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (text) say(text);
    input.value = "";
  });
  connect();
})();
