// The embeddable widget: <script src="https://BOT-HOST/webchat/widget.js" data-lang="zh" async></script>
// Adds a chat button to the seller's page that opens the bot's chat page in a frame. The bot's server
// must list the store's origin in `allowed_origins` (it sends frame-ancestors accordingly).
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || "";
  var label = script.getAttribute("data-label") || ((lang || navigator.language).indexOf("zh") === 0 ? "在线客服" : "Chat with us");
  var frame = null;
  var button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.setAttribute("style", "position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;" +
    "padding:12px 18px;background:#1f6feb;color:#fff;font:16px system-ui,sans-serif;box-shadow:0 2px 10px rgba(0,0,0,.2)");
  button.onclick = function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = label;
      frame.src = base + "/?embed=1" + (lang ? "&lang=" + encodeURIComponent(lang) : "");
      frame.setAttribute("style", "position:fixed;right:16px;bottom:72px;z-index:2147483000;border:0;border-radius:12px;" +
        "width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 96px));box-shadow:0 4px 24px rgba(0,0,0,.25);background:#fff");
      document.body.appendChild(frame);
    } else {
      frame.style.display = frame.style.display === "none" ? "" : "none";
    }
  };
  document.body.appendChild(button);
})();
