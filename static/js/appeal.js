// The appeal's small enhancements: "Maybe later", keeping an amount chosen for the
// frequency on screen, and the tracking beacon (a viewable impression: at least half of
// the appeal on screen for one second; a click on the button or a choice card).
// The appeal works without this script; only these need it.
(function () {
  "use strict";
  var pageView = (function () {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  })();

  function send(appeal, type) {
    var body = JSON.stringify({
      pv: pageView,
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

  function watchViewable(appeal) {
    if (!("IntersectionObserver" in window)) { return; }
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
  }

  function watchClicks(appeal) {
    var clicked = false;
    appeal.addEventListener("click", function (event) {
      if (clicked || !event.target.closest(".appeal__cta, .choice")) { return; }
      clicked = true;
      send(appeal, "click");
    });
  }

  function enableLater(appeal) {
    var later = appeal.querySelector(".appeal__later");
    if (!later) { return; }
    later.hidden = false;
    later.addEventListener("click", function () {
      var days = Number(appeal.dataset.dismissDays || 7);
      if (appeal.dataset.embed) {
        // On another site the embed script keeps reader state in that site's storage.
        try { localStorage.setItem("supportapp.later", String(Date.now() + days * 86400000)); } catch (e) {}
      } else {
        document.cookie = "sa_later=1; max-age=" + days * 86400 + "; path=/; SameSite=Lax";
      }
      appeal.hidden = true;
    });
  }

  function keepAmountChosen(appeal) {
    appeal.querySelectorAll("input[name=frequency]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var group = appeal.querySelector(".appeal__amounts--" + radio.value);
        var choices = group ? group.querySelectorAll("input[name=amount]") : [];
        if (choices.length && !group.querySelector("input[name=amount]:checked")) {
          choices[Math.min(1, choices.length - 1)].checked = true;
        }
      });
    });
  }

  window.supportappAppeal = function (appeal) {
    if (appeal.dataset.ready) { return; }
    appeal.dataset.ready = "1";
    enableLater(appeal);
    keepAmountChosen(appeal);
    watchViewable(appeal);
    watchClicks(appeal);
  };
  document.querySelectorAll("section.appeal").forEach(window.supportappAppeal);
})();
