// Draws the dashboard's charts with the vendored Chart.js. The CSP allows no inline script,
// so each <canvas data-chart="ID"> names a <script type="application/json" id="ID"> block:
// {"type": "money" | "count", "labels": [...], "datasets": [{"label", "data", "currency"}]}.
// Money arrives in integer minor units and is divided by 100 only for drawing.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var COLOURS = ["#0b5c7a", "#c2571a", "#1d6b36", "#7a3b8f", "#a4161a"];

  function formatMoney(value, currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(value);
    } catch (e) {
      return value.toFixed(2) + " " + currency;
    }
  }

  function dataset(set, index, isMoney) {
    var colour = COLOURS[index % COLOURS.length];
    return {
      label: set.label,
      currency: set.currency,
      data: set.data.map(function (value) { return isMoney ? value / 100 : value; }),
      backgroundColor: colour,
      borderColor: colour,
      pointRadius: 2,
      tension: 0.2
    };
  }

  function config(spec) {
    var isMoney = spec.type === "money";
    return {
      type: isMoney ? "bar" : "line",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set, i) { return dataset(set, i, isMoney); })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: isMoney ? 2 : 0 } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var value = ctx.parsed.y;
                return ctx.dataset.label + ": " +
                  (isMoney ? formatMoney(value, ctx.dataset.currency) : value);
              }
            }
          }
        }
      }
    };
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var block = document.getElementById(canvas.dataset.chart);
    if (!block) {
      return;
    }
    new window.Chart(canvas, config(JSON.parse(block.textContent)));
  });
})();
