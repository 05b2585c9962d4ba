// The appeal editor's live preview. As the editor types, the form (CSRF token included) is
// posted to the preview endpoint, which saves nothing and answers with the appeal rendered by
// the readers' own template; that HTML replaces the preview. Without this script the
// "Refresh preview" button does the same with a full page load.
(function () {
  "use strict";
  var form = document.getElementById("appeal-form");
  var preview = document.getElementById("appeal-preview");
  if (!form || !preview || !window.fetch || !form.dataset.previewUrl) {
    return;
  }
  document.querySelectorAll(".js-hide").forEach(function (element) { element.hidden = true; });
  var timer = null;
  var latest = 0;

  function refresh() {
    var ticket = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("preview answered " + response.status);
      }
      return response.text();
    }).then(function (html) {
      if (ticket === latest) {  // an older answer arriving late must not win
        preview.innerHTML = html;
        preview.classList.remove("preview--stale");
      }
    }).catch(function () {
      if (ticket === latest) {
        preview.classList.add("preview--stale");
      }
    });
  }

  function soon(event) {
    // The preview's own choices sit outside the <form> but belong to it (form="appeal-form").
    if (event.target.form !== form) {
      return;
    }
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  document.addEventListener("input", soon);
  document.addEventListener("change", soon);
})();
