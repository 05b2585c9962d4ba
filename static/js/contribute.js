// The contribution form's running total (what the reader will pay, fees included or not)
// and the one-off -> monthly offer. Integer arithmetic in minor units, the same formulas
// as the server: total = ceil((amount + fixed) / (1 - rate)) with rate = numerator /
// denominator; the monthly offer = one-off / divisor rounded half up to whole units.
(function () {
  "use strict";
  var form = document.querySelector(".contribute__form");
  if (!form) { return; }
  var fees = JSON.parse(form.getAttribute("data-fees") || "{}");
  var block = form.querySelector("[data-chooser-data]");
  var data = JSON.parse(block ? block.textContent : "{}");
  var PER = data.per || {};
  var offer = form.querySelector("[data-offer]");
  var offerShown = offer ? !offer.hidden : false;
  var line = form.querySelector("[data-total-line]");
  var totalEl = form.querySelector("[data-total]");
  var feeEl = form.querySelector("[data-fee]");
  var perEl = form.querySelector("[data-per]");

  function minorUnits(text) {
    text = (text || "").trim().replace(/^[$€£]/, "").replace(/,/g, "");
    var match = /^(\d*)(?:\.(\d{0,2}))?$/.exec(text);
    if (!match || (match[1] === "" && !match[2])) { return null; }
    var cents = ((match[2] || "") + "00").slice(0, 2);
    return parseInt(match[1] || "0", 10) * 100 + parseInt(cents, 10);
  }

  function grossUp(amount, rule) {
    var num = rule[0], den = rule[1], fixed = rule[2];
    var top = (amount + fixed) * den, bottom = den - num;
    return Math.floor((top + bottom - 1) / bottom);
  }

  // As the server formats it: whole amounts without decimals ($5), others with two ($5.46).
  function money(minor, currency) {
    var digits = minor % 100 === 0 ? 0 : 2;
    try {
      return new Intl.NumberFormat(document.documentElement.lang || "en", {
        style: "currency", currency: currency,
        minimumFractionDigits: digits, maximumFractionDigits: digits
      }).format(minor / 100);
    } catch (e) { return currency + " " + (minor / 100).toFixed(digits); }
  }

  function checked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }

  function monthlyOffer(minor) {
    var divisor = data.offer_divisor || 0;
    if (!divisor || minor === null || minor < data.min_minor) { return null; }
    var unit = divisor * 100;
    return Math.max(100, Math.floor((minor + Math.floor(unit / 2)) / unit) * 100);
  }

  function field(name) {
    var input = form.querySelector("input[name='" + name + "']");
    return input ? input.value : "";
  }

  // Counted like the appeal's events (once per reader, story, variant and day), only for a
  // reader who came from an appeal variant: what the variant reports compare.
  function countOfferShown() {
    if (!field("variant") || !field("appeal")) { return; }
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    var body = JSON.stringify({
      pv: Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(""),
      events: [{ type: "offer", story: field("story"), appeal: Number(field("appeal")),
                 variant: Number(field("variant")) }]
    });
    if (navigator.sendBeacon) { navigator.sendBeacon("/api/events", new Blob([body], { type: "text/plain" })); }
  }

  function showOffer(amount, currency) {
    if (!offer) { return; }
    var monthly = checked("frequency") === "one_off" ? monthlyOffer(amount) : null;
    offer.hidden = monthly === null;
    if (monthly === null) { return; }
    offer.querySelectorAll("[data-offer-amount]").forEach(function (el) {
      el.textContent = money(monthly, currency);
    });
    if (!offerShown) { offerShown = true; countOfferShown(); }
  }

  function update() {
    var currency = form.querySelector("select[name='currency']").value;
    var custom = form.querySelector("input[name='amount_custom']").value;
    var amount = minorUnits(custom.trim() ? custom : checked("amount_" + checked("frequency")));
    var rule = fees[currency];
    showOffer(amount, currency);
    if (amount === null || amount < data.min_minor || !rule) { line.hidden = true; return; }
    var total = grossUp(amount, rule);
    feeEl.textContent = money(total - amount, currency);
    var cover = form.querySelector("input[name='cover_fees']").checked;
    totalEl.textContent = money(cover ? total : amount, currency);
    var per = PER[checked("frequency")] || "";
    perEl.textContent = per ? " " + per : "";
    line.hidden = false;
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);  // giving.js keeps the buttons and "Other" apart
  update();
})();
