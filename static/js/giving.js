// The chooser (templates/giving/_chooser.html) in the appeal, on /contribute and /support:
// switching currency redraws the amount buttons at once, from the JSON block the server
// wrote (services/giving.py, the one source of presets and words); each frequency keeps a
// button chosen; typing an amount releases the buttons of the frequency shown. The page
// works without this script: the server checks what was shown (shown_currency).
(function () {
  "use strict";
  function inputs(group) {
    return Array.prototype.slice.call(group.querySelectorAll("input[type=radio]"));
  }

  function checkedIndex(group) {
    return inputs(group).findIndex(function (input) { return input.checked; });
  }

  function setButtons(group, entries) {
    var labels = group.querySelectorAll("label.choice");
    var template = labels[0];
    for (var i = labels.length; i < entries.length; i++) {
      group.appendChild(template.cloneNode(true));
    }
    for (var j = entries.length; j < labels.length; j++) {
      labels[j].remove();
    }
    group.querySelectorAll("label.choice").forEach(function (label, k) {
      label.querySelector("input").value = entries[k][0];
      label.querySelector("span").textContent = entries[k][1];
    });
  }

  function redraw(chooser, data, currency) {
    var presets = data.presets[currency];
    if (!presets) { return; }
    chooser.querySelectorAll(".chooser__amounts").forEach(function (group) {
      var was = checkedIndex(group);
      var entries = presets[group.dataset.frequency] || [];
      if (!entries.length) { return; }
      setButtons(group, entries);
      var choices = inputs(group);
      choices.forEach(function (input) { input.checked = false; });
      if (was >= 0) { choices[Math.min(was, choices.length - 1)].checked = true; }
    });
    chooser.querySelector("[data-shown-currency]").value = currency;
  }

  function frequency(chooser) {
    var chosen = chooser.querySelector("input[name=frequency]:checked");
    return chosen ? chosen.value : "";
  }

  function shownGroup(chooser) {
    return chooser.querySelector(".chooser__amounts--" + frequency(chooser));
  }

  function keepOneChosen(chooser, custom) {
    var group = shownGroup(chooser);
    if (!group || custom.value.trim() || checkedIndex(group) >= 0) { return; }
    var choices = inputs(group);
    var preselected = chooser.supportappData.preselected || 0;
    if (choices.length) { choices[Math.min(preselected, choices.length - 1)].checked = true; }
  }

  window.supportappChooser = function (chooser) {
    if (chooser.dataset.ready) { return; }
    chooser.dataset.ready = "1";
    var block = chooser.querySelector("[data-chooser-data]");
    var data = JSON.parse(block ? block.textContent : "{}");
    chooser.supportappData = data;
    var custom = chooser.querySelector("input[name=amount_custom]");
    var currency = chooser.querySelector("[data-currency]");
    currency.addEventListener("change", function () { redraw(chooser, data, currency.value); });
    chooser.addEventListener("change", function (event) {
      if (event.target.name === "frequency") { keepOneChosen(chooser, custom); }
      if (/^amount_(one_off|monthly|annual)$/.test(event.target.name)) { custom.value = ""; }
    });
    custom.addEventListener("input", function () {
      if (!custom.value.trim()) { keepOneChosen(chooser, custom); return; }
      var group = shownGroup(chooser);
      if (group) { inputs(group).forEach(function (input) { input.checked = false; }); }
    });
  };
  document.querySelectorAll("[data-chooser]").forEach(window.supportappChooser);
})();
