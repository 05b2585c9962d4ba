// supportapp embed: <script src="https://NEWSROOM/embed.js" async></script> and
// <div data-supportapp-story="SLUG-OR-URL"></div> where the appeal should go.
// Reader state lives in this site's localStorage (no third-party cookies); with Global
// Privacy Control or Do Not Track no reader id is kept.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var DAY = 86400000;
  var store = {
    get: function (key, fallback) {
      try { return JSON.parse(localStorage.getItem("supportapp." + key)) || fallback; }
      catch (e) { return fallback; }
    },
    set: function (key, value) {
      try { localStorage.setItem("supportapp." + key, JSON.stringify(value)); } catch (e) { /* private mode */ }
    }
  };
  var noTracking = navigator.globalPrivacyControl === true || navigator.doNotTrack === "1";

  function readerId() {
    if (noTracking) { return ""; }
    var id = store.get("reader", "");
    if (!id) {
      var bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      store.set("reader", id);
    }
    return id;
  }

  // The window for "stories this month" and the cap is the server's
  // (SUPPORTAPP_APPEAL_VIEW_WINDOW_DAYS): each answer says it, and it is kept for next time.
  function windowDays() { return store.get("window", 0); }

  function recent(list) {
    if (!windowDays()) { return list; }
    var since = Date.now() - windowDays() * DAY;
    return list.filter(function (item) { return item.t >= since; });
  }

  function noteRead(story) {
    var reads = recent(store.get("reads", [])).filter(function (r) { return r.s !== story; });
    reads.push({ s: story, t: Date.now() });
    store.set("reads", reads.slice(-60));
    return reads.length;
  }

  function show(target, data) {
    if (data.window_days) { store.set("window", data.window_days); }
    if (!data.html) { return; }
    target.innerHTML = data.html;
    var appeal = target.querySelector("section.appeal");
    if (!appeal) { return; }
    var views = recent(store.get("views", []));
    views.push({ t: Date.now() });
    store.set("views", views.slice(-60));
    appeal.dataset.embed = "1";
    appeal.dataset.beacon = base + "/api/events";
    if (readerId()) { appeal.dataset.reader = readerId(); }
    if (window.supportappAppeal) {
      window.supportappAppeal(appeal);
    } else if (!document.getElementById("supportapp-appeal-js")) {
      // The same scripts as on our own pages: the chooser, then "Maybe later", viewability
      // and click beacons (which sets up the chooser it finds). In this order: not async.
      ["giving", "appeal"].forEach(function (name) {
        var tag = document.createElement("script");
        tag.id = "supportapp-" + name + "-js";
        tag.src = base + "/static/js/" + name + ".js";
        tag.async = false;
        document.head.appendChild(tag);
      });
    }
  }

  function load(target) {
    var story = target.getAttribute("data-supportapp-story") || location.href;
    if (store.get("later", 0) > Date.now()) { return; }
    var params = new URLSearchParams({
      story: story,
      reads: String(noteRead(story)),
      views: String(recent(store.get("views", [])).length),
      title: document.title
    });
    var id = readerId();
    if (id) { params.set("reader", id); }
    fetch(base + "/api/appeal?" + params.toString(), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : { html: "" }; })
      .then(function (data) { show(target, data); })
      .catch(function () { /* the story reads fine without the appeal */ });
  }

  document.querySelectorAll("[data-supportapp-story]").forEach(load);
})();
