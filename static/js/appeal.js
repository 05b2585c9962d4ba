// The appeal's small enhancements: "Maybe later" without leaving the page, a nonce that
// makes a double click one payment, and the tracking beacon (a viewable impression: at
// least half of the appeal on screen for one second; a click on the button or a choice
// card). The chooser's own script is giving.js. The appeal works without either.
(function () {
  "use strict";
  // The server drew the page view id (data-pv) and counted the appeal as shown under it;
  // pages cached from before it did so draw their own.
  var pageView = (function () {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  })();

  function send(appeal, type) {
    var body = JSON.stringify({
      pv: appeal.dataset.pv || pageView,
      reader: appeal.dataset.reader || undefined,
      events: [{
        type: type,
        story: appeal.dataset.story,
        appeal: Number(appeal.dataset.appeal),
        variant: Number(appeal.dataset.variant)
      }]
    });
    var url = appeal.dataset.beacon || "/api/events";
    // text/plain keeps the beacon a "simple" request, so embeds on other sites can send it.
    var blob = new Blob([body], { type: "text/plain" });
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, blob))) {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "same-origin" }).catch(function () {});
    }
  }

  // Returns what stops the watch: a click ends it, since the click is the stronger signal
  // (the funnel counts a click as viewable) and a view "seen" while the page leaves for
  // Stripe's would only blur how many views beacons really reported.
  function watchViewable(appeal) {
    if (!("IntersectionObserver" in window)) { return function () {}; }
    var timer = null;
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.intersectionRatio >= 0.5 && timer === null) {
          timer = setTimeout(function () {
            observer.disconnect();
            send(appeal, "view");
          }, 1000);
        } else if (entry.intersectionRatio < 0.5 && timer !== null) {
          clearTimeout(timer);
          timer = null;
        }
      });
    }, { threshold: [0, 0.5, 1] });
    observer.observe(appeal);
    return function () {
      observer.disconnect();
      if (timer !== null) { clearTimeout(timer); }
    };
  }

  function watchClicks(appeal, stopViewable) {
    var clicked = false;
    appeal.addEventListener("click", function (event) {
      if (clicked || !event.target.closest(".appeal__cta, .choice")) { return; }
      clicked = true;
      stopViewable();
      send(appeal, "click");
    });
  }

  function enableLater(appeal) {
    var later = appeal.querySelector(".appeal__later");
    if (!later) { return; }
    later.hidden = false;
    later.addEventListener("click", function (event) {
      event.preventDefault();
      if (appeal.dataset.embed) {
        // On another site our cookie would be a third-party one: that site's storage keeps it.
        var days = Number(appeal.dataset.dismissDays);  // APPEAL_DISMISS_DAYS, from the server
        try { localStorage.setItem("supportapp.later", String(Date.now() + days * 86400000)); } catch (e) {}
      } else {
        // The server sets the HttpOnly cookie (POST /appeal/later), as the button would.
        fetch(later.getAttribute("formaction"), {
          method: "POST", credentials: "same-origin", keepalive: true,
          body: new URLSearchParams({ via: "script" })
        }).catch(function () {});
      }
      var note = document.createElement("p");
      note.className = "appeal__dismissed";
      note.setAttribute("role", "status");
      note.textContent = "We won't ask again for a while. Thank you for reading.";
      appeal.replaceWith(note);
    });
  }

  function drawNonce(appeal) {
    var field = appeal.querySelector("[data-nonce]");
    if (!field) { return; }
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    field.value = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  window.supportappAppeal = function (appeal) {
    if (appeal.dataset.ready) { return; }
    appeal.dataset.ready = "1";
    enableLater(appeal);
    drawNonce(appeal);
    var chooser = appeal.querySelector("[data-chooser]");
    if (chooser && window.supportappChooser) { window.supportappChooser(chooser); }
    watchClicks(appeal, watchViewable(appeal));
  };
  document.querySelectorAll("section.appeal").forEach(window.supportappAppeal);
})();
