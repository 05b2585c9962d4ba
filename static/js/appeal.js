// The appeal's small enhancements: "Maybe later", and keeping an amount chosen for the
// frequency on screen. The appeal works without this script; only these need it.
(function () {
  "use strict";
  document.querySelectorAll("section.appeal").forEach(function (appeal) {
    var later = appeal.querySelector(".appeal__later");
    if (later) {
      later.hidden = false;
      later.addEventListener("click", function () {
        var days = Number(appeal.dataset.dismissDays || 7);
        document.cookie = "sa_later=1; max-age=" + days * 86400 + "; path=/; SameSite=Lax";
        appeal.hidden = true;
      });
    }
    appeal.querySelectorAll("input[name=frequency]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var group = appeal.querySelector(".appeal__amounts--" + radio.value);
        var checked = group && group.querySelector("input[name=amount]:checked");
        var choices = group ? group.querySelectorAll("input[name=amount]") : [];
        if (!checked && choices.length) {
          choices[Math.min(1, choices.length - 1)].checked = true;
        }
      });
    });
  });
})();
